// dns-observer in the kernel: real DNS over a veth pair to a server in a peer namespace, seen at tcx.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, test } from 'node:test';
import { type Collection, loadCollection, readRingBuffer, testRun } from '../../bpf/index.js';
import { createVethPair, type VethPair } from '../../bpf/testing/fixtures.js';
import { insideTestNetns } from '../../bpf/testing/netns-suite.js';
import { decodeLayout } from '../map-values.js';
import { buildPacket } from '../packet-builder.js';
import { buildLibraryProgram, encodeEntry, type LibraryProgram } from './library-fixture.js';

// A DNS server that answers after 5 ms: NXDOMAIN for names starting with "nx", NOERROR otherwise. The wait is
// checked on the monotonic clock: libuv times a setTimeout from the loop's cached time, so it can fire up to 1 ms
// early, and the test asserts every latency is at least 5 ms.
const SERVER = `
const s = require('node:dgram').createSocket('udp4');
const hold = (since, send) => {
  const left = 5 - Number(process.hrtime.bigint() - since) / 1e6;
  if (left > 0) setTimeout(() => hold(since, send), Math.ceil(left));
  else send();
};
s.on('message', (q, from) => {
  const since = process.hrtime.bigint();
  const r = Buffer.from(q);
  r[2] = 0x81;
  r[3] = q[13] === 0x6e && q[14] === 0x78 ? 0x83 : 0x80;
  hold(since, () => s.send(r, from.port, from.address));
});
s.bind(53, process.argv[1], () => process.stdout.write('ready\\n'));
`;

/** A DNS query for `name`, type A, class IN. */
function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

interface DnsEvent {
  latencyNs: bigint;
  clientPort: number;
  id: number;
  rcode: number;
  question: Buffer;
}

/** struct dns_event: latency u64, client[16], server[16], client_port u16, id u16, rcode u8, question_len u8, question[64]. */
function parseEvent(sample: Uint8Array): DnsEvent {
  const b = Buffer.from(sample);
  return {
    latencyNs: b.readBigUInt64LE(0),
    clientPort: b.readUInt16LE(40),
    id: b.readUInt16LE(42),
    rcode: b[44] ?? 0,
    question: b.subarray(46, 46 + (b[45] ?? 0)),
  };
}

if (insideTestNetns(import.meta.url)) {
  let program: LibraryProgram;
  let veth: VethPair;
  let coll: Collection | undefined;
  beforeEach(async () => {
    program ??= await buildLibraryProgram('dns-observer');
    veth = createVethPair();
  });
  afterEach(() => {
    coll?.close();
    coll = undefined;
    veth.remove();
  });

  const count = (map: string, key: number) => {
    const layout = program.manifest.maps?.[map]?.layout;
    const values = coll?.map(map).lookupPerCpu(encodeEntry(program.manifest, map, 'key', key)) ?? [];
    return layout && values.length > 0 ? Number(decodeLayout(layout.value, values).packets) : 0;
  };

  test('matches a query and its response through BPF_PROG_TEST_RUN and samples the response', async () => {
    coll = await loadCollection(program.object, { config: { sample_every: 1n } });
    const events: DnsEvent[] = [];
    const reader = readRingBuffer(coll.map('events'), (s) => events.push(parseEvent(s)), { pollMs: 20 });
    try {
      const q = query(0x4242, 'example.com');
      const r = Buffer.from(q);
      r[2] = 0x81;
      r[3] = 0x82; // SERVFAIL
      const out = buildPacket({
        ipv4: { src: '198.18.0.1', dst: '198.18.0.53' },
        udp: { src: 40000, dst: 53 },
        payload: q.toString('hex'),
      });
      const back = buildPacket({
        ipv4: { src: '198.18.0.53', dst: '198.18.0.1' },
        udp: { src: 53, dst: 40000 },
        payload: r.toString('hex'),
      });
      assert.equal(testRun(coll.program('dns_egress'), out).retval, -1);
      assert.equal(testRun(coll.program('dns_ingress'), back).retval, -1);
      // A second copy of the response has no query left to match.
      testRun(coll.program('dns_ingress'), back);
      for (let i = 0; i < 100 && events.length < 1; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(events.length, 1);
      assert.deepEqual(
        { id: events[0]?.id, port: events[0]?.clientPort, rcode: events[0]?.rcode },
        { id: 0x4242, port: 40000, rcode: 2 },
      );
      assert.deepEqual(events[0]?.question, q.subarray(12));
      assert.equal(count('responses_by_rcode', 2), 2);
      assert.equal(count('dns_stats', 2), 1, 'the duplicate is unmatched');
      let timed = 0;
      for (let b = 0; b < 32; b++) timed += count('latency_us_log2', b);
      assert.equal(timed, 1);
    } finally {
      await reader.close();
    }
  });

  test('sees real queries leave and responses come back at tcx, by rcode, with latency and events', async () => {
    coll = await loadCollection(program.object, { config: { sample_every: 2n } });
    const m = coll;
    const links = [
      await m.program('dns_egress').attach({ kind: 'tcx', interface: veth.inner, direction: 'egress' }),
      await m.program('dns_ingress').attach({ kind: 'tcx', interface: veth.inner, direction: 'ingress' }),
    ];
    const server = spawn('nsenter', [
      `--net=/run/netns/${veth.peer}`,
      process.execPath,
      '-e',
      SERVER,
      veth.outerAddr,
    ]);
    const events: DnsEvent[] = [];
    const reader = readRingBuffer(m.map('events'), (s) => events.push(parseEvent(s)), { pollMs: 20 });
    const client = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`DNS server exited ${code}`)));
      });
      await new Promise<void>((resolve) => client.bind(0, veth.innerAddr, resolve));
      const names = ['a.example', 'nx1.example', 'b.example', 'nx2.example', 'c.example', 'd.example'];
      const rcodes: number[] = [];
      for (const [i, name] of names.entries()) {
        const answer = new Promise<Buffer>((resolve) => client.once('message', resolve));
        client.send(query(0x100 + i, name), 53, veth.outerAddr);
        rcodes.push(((await answer)[3] ?? 0) & 0x0f);
      }
      assert.deepEqual(rcodes, [0, 3, 0, 3, 0, 0]);
      for (let i = 0; i < 100 && events.length < 3; i++) await new Promise((res) => setTimeout(res, 10));

      assert.equal(count('dns_stats', 0), 6, 'queries');
      assert.equal(count('dns_stats', 1), 6, 'responses');
      assert.equal(count('dns_stats', 2), 0, 'unmatched');
      assert.equal(count('responses_by_rcode', 0), 4);
      assert.equal(count('responses_by_rcode', 3), 2);
      const buckets = Array.from({ length: 32 }, (_, b) => count('latency_us_log2', b));
      assert.equal(
        buckets.reduce((a, b) => a + b, 0),
        6,
      );
      // The server waits 5 ms, so no response can land below the 4096-8192 us bucket.
      assert.equal(
        buckets.slice(0, 13).reduce((a, b) => a + b, 0),
        0,
      );
      // One in two responses is sampled: ids 0x100, 0x102, 0x104 in order.
      assert.deepEqual(
        events.map((e) => e.id),
        [0x100, 0x102, 0x104],
      );
      assert.ok(events.every((e) => e.latencyNs >= 5_000_000n));
      assert.deepEqual(events[0]?.question, query(0x100, 'a.example').subarray(12));
      assert.equal(events[0]?.clientPort, client.address().port);
    } finally {
      client.close();
      await reader.close();
      server.kill();
      for (const link of links) link.close();
    }
  });
}
