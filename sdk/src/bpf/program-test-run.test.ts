// BPF_PROG_TEST_RUN through the loader: verdicts, config, repeat counts, output packets, unsupported types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BpfError } from '../errors.js';
import { buildPacket } from '../testing/packet-builder.js';
import { loadCollection } from './collection.js';
import { readU64, u32 } from './map.js';
import { testRun } from './program-test-run.js';
import { testObject } from './testing/fixtures.js';

// An ICMP echo request (type 8): the packet xdp_counter counts.
const PING = buildPacket({
  ipv4: { src: '198.18.0.1', dst: '198.18.0.2', proto: 1 },
  payload: '0800f7ff00000000',
});
const XDP_DROP = 1;
const XDP_PASS = 2;
const SOCKOPS = 'count_sockops';

describe('testRun', () => {
  it('runs an XDP program on a packet: verdict, unchanged output, map effects, repeat', async () => {
    const coll = await loadCollection(testObject('xdp_counter'));
    try {
      const program = coll.program('count_pings');
      const once = testRun(program, PING);
      assert.equal(once.retval, XDP_PASS);
      assert.deepEqual(once.dataOut, PING);
      assert.equal(typeof once.durationNs, 'number');
      testRun(program, PING, { repeat: 99 });
      assert.equal(readU64(coll.map('counts').lookup(u32(0)) ?? new Uint8Array(8)), 100n);
    } finally {
      coll.close();
    }
  });

  it('sees the config the collection was loaded with', async () => {
    const coll = await loadCollection(testObject('xdp_counter'), { config: { verdict: XDP_DROP } });
    try {
      assert.equal(testRun(coll.program('count_pings'), PING).retval, XDP_DROP);
    } finally {
      coll.close();
    }
  });

  it('refuses program types that have no test run, saying so', async () => {
    const coll = await loadCollection(testObject('cgroup_counters'));
    try {
      const program = coll.program(SOCKOPS);
      assert.throws(
        () => testRun(program, PING),
        (err: BpfError) =>
          err.code === 'TEST_RUN_NOT_SUPPORTED' && /has no BPF_PROG_TEST_RUN/.test(err.message),
      );
    } finally {
      coll.close();
    }
  });
});
