// Packet builder checksums, map value codec, .rodata patching and test-file errors, without the kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BuildError } from '../errors.js';
import { compareValue, decodeLayout, encodeLayout } from './map-values.js';
import { buildPacket, internetChecksum } from './packet-builder.js';
import { parseTestFile, returnValue } from './test-file.js';

describe('packet builder', () => {
  it('builds an IPv4/UDP frame whose IP and UDP checksums verify', () => {
    const frame = Buffer.from(
      buildPacket({
        ipv4: { src: '198.18.0.1', dst: '198.18.0.2' },
        udp: { src: 1000, dst: 53 },
        payload: 'abcdef',
      }),
    );
    assert.equal(frame.length, 14 + 20 + 8 + 3);
    assert.equal(frame.readUInt16BE(12), 0x0800);
    assert.equal(internetChecksum(frame.subarray(14, 34)), 0, 'IPv4 header checksum');
    const pseudo = Buffer.concat([frame.subarray(26, 34), Buffer.from([0, 17, 0, 11])]);
    assert.equal(internetChecksum(pseudo, frame.subarray(34)), 0, 'UDP checksum');
  });

  it('pads to size, stacks VLAN tags and builds IPv6/TCP', () => {
    const frame = Buffer.from(
      buildPacket({
        eth: { vlan: [5, 6] },
        ipv6: { src: '2001:db8::1', dst: '2001:db8::2' },
        tcp: { src: 1, dst: 2 },
        size: 128,
      }),
    );
    assert.equal(frame.length, 128);
    assert.deepEqual(
      [frame.readUInt16BE(12), frame.readUInt16BE(14), frame.readUInt16BE(16)],
      [0x8100, 5, 0x8100],
    );
    assert.equal(frame.readUInt16BE(20), 0x86dd);
    assert.equal(frame[22 + 6], 6, 'next header TCP');
  });

  it('takes hex as is and refuses what is not hex', () => {
    assert.deepEqual(buildPacket('00 11:22'), Uint8Array.of(0, 0x11, 0x22));
    assert.throws(() => buildPacket('xyz'), BuildError);
    assert.throws(() => buildPacket({ ipv4: { src: '300.1.1.1', dst: '1.1.1.1' } }), /bad ipv4 address/);
  });

  it('checksums of random payloads verify', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 65535 }), (payload, port) => {
        const frame = Buffer.from(
          buildPacket({
            ipv4: { src: '198.18.0.1', dst: '198.19.255.254' },
            udp: { src: port, dst: 9 },
            payload: Buffer.from(payload).toString('hex'),
          }),
        );
        const length = frame.length - 34;
        const pseudo = Buffer.concat([
          frame.subarray(26, 34),
          Buffer.from([0, 17, length >> 8, length & 255]),
        ]);
        return internetChecksum(pseudo, frame.subarray(34)) === 0;
      }),
    );
  });
});

describe('map values', () => {
  const layout = { prefixlen: 'u32', addr: 'ipv4' } as const;

  it('encodes a struct key with C layout and decodes per-CPU values by summing integers', () => {
    assert.deepEqual(
      Buffer.from(encodeLayout(layout, { prefixlen: 24, addr: '198.51.100.0' }, 'k')).toString('hex'),
      '18000000c6336400',
    );
    const value = { packets: 'u64', bytes: 'u64' } as const;
    const cpu = (p: number, b: number) => encodeLayout(value, { packets: p, bytes: b }, 'v');
    const decoded = decodeLayout(value, [cpu(1, 100), cpu(2, 50)]);
    assert.deepEqual(decoded, { packets: '3', bytes: '150' });
    assert.deepEqual(compareValue(value, decoded, { packets: 3 }, 'm'), []);
    assert.deepEqual(compareValue(value, decoded, { bytes: { min: 151 } }, 'm'), [
      'm.bytes: expected at least 151, got 150',
    ]);
    assert.deepEqual(compareValue(value, decoded, { packets: 2 }, 'm'), ['m.packets: expected 2, got 3']);
  });

  it('names a missing field', () => {
    assert.throws(
      () => encodeLayout(layout, { prefixlen: 24 }, 'blocklist[0].key'),
      /blocklist\[0\]\.key: field addr missing/,
    );
  });
});

describe('test file', () => {
  it('reads packet and traffic tests and names what is wrong', () => {
    const tests = parseTestFile(
      JSON.stringify({
        tests: [
          { name: 'a', program: 'p', input: { packet: '00' }, expect: { return: 'XDP_PASS' } },
          { name: 'b', kind: 'traffic', traffic: { udp: { packets: 1, size: 1 } }, expect: {} },
        ],
      }),
      't.json',
    );
    assert.deepEqual(
      tests.map((t) => t.kind),
      ['packet', 'traffic'],
    );
    assert.throws(
      () => parseTestFile('{"tests":[{"name":"x","expect":{}}]}', 't.json'),
      /t\.json tests\[0\] \(x\): program is missing/,
    );
    assert.throws(() => parseTestFile('[', 't.json'), /t\.json: not JSON/);
    assert.equal(returnValue('TCX_NEXT', 'x'), -1);
    assert.throws(() => returnValue('XDP_MAYBE', 'x'), /unknown return name/);
  });
});
