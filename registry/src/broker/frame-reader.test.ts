// FrameReader: packet boundaries across any chunking, judged once per packet from header and topic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FrameHeader, FrameReader } from './frame-reader.js';

function varint(n: number): number[] {
  const bytes: number[] = [];
  do {
    bytes.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return bytes;
}

/** A PUBLISH as MQTT 3.1.1 frames it (section 3.3). */
function publish(topic: string, size: number, qos: 0 | 1 = 0): Buffer {
  const t = Buffer.from(topic);
  const variable = Buffer.concat([
    Buffer.from([t.length >> 8, t.length & 0xff]),
    t,
    Buffer.from(qos ? [0, 7] : []),
  ]);
  const body = Buffer.concat([variable, Buffer.alloc(size, 1)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1), ...varint(body.length)]), body]);
}
const PINGREQ = Buffer.from([0xc0, 0x00]);

test('every chunking of a stream forwards the same bytes and judges each packet once', () => {
  const stream = Buffer.concat([PINGREQ, publish('a/b', 300), publish('topic/two', 20_000, 1), PINGREQ]);
  for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
    const seen: FrameHeader[] = [];
    const reader = new FrameReader((h) => {
      seen.push(h);
      return null;
    });
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) {
      const { forward, refused } = reader.feed(stream.subarray(i, i + size));
      assert.equal(refused, undefined);
      out.push(...forward);
    }
    assert.deepEqual(Buffer.concat(out), stream, `chunks of ${size}`);
    assert.deepEqual(
      seen.map((h) => [h.type, h.topic, h.payloadLength]),
      [
        [12, undefined, undefined],
        [3, 'a/b', 300],
        [3, 'topic/two', 20_000],
        [12, undefined, undefined],
      ],
    );
  }
});

test('a refused packet stops the stream before any of its body is forwarded', () => {
  const reader = new FrameReader((h) => ((h.payloadLength ?? 0) > 100 ? 'too big' : null));
  const small = publish('t', 10);
  const big = publish('t', 5000);
  const first = reader.feed(Buffer.concat([small, big.subarray(0, 10)]));
  assert.deepEqual(Buffer.concat(first.forward), small);
  assert.equal(first.refused, 'too big');
});

test('a remaining length over four bytes or a topic longer than its packet is refused', () => {
  const reader = new FrameReader(() => null);
  assert.match(reader.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])).refused ?? '', /malformed/);
  const other = new FrameReader(() => null);
  assert.match(other.feed(Buffer.from([0x30, 0x03, 0x00, 0x10, 0x61])).refused ?? '', /topic longer/);
});
