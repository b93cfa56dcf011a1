// Kernel tests: tcx and classic TC count an interface's ICMP; cgroup_skb, connect4 and sockops count a
// test cgroup's traffic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, beforeEach, test } from 'node:test';
import { NotSupportedError } from '../errors.js';
import { loadCollection } from './collection.js';
import { readU64, u32 } from './map.js';
import { createCgroup, createVethPair, openFds, testObject, type VethPair } from './testing/fixtures.js';
import { insideTestNetns } from './testing/netns-suite.js';

if (insideTestNetns(import.meta.url)) {
  let veth: VethPair;
  let fdsBefore: string[];
  beforeEach(() => {
    veth = createVethPair();
    fdsBefore = openFds();
  });
  afterEach(() => {
    veth.remove();
  });

  const ping = (count: number, target: string) =>
    spawnSync('ping', ['-c', String(count), '-i', '0.05', '-W', '1', target], { encoding: 'utf8' });

  test('tcx egress counts the packets leaving an interface; links stack and update', async () => {
    const coll = await loadCollection(testObject('tc_counter'));
    const counts = coll.map('tc_counts');
    const link = await coll
      .program('count_icmp')
      .attach({ kind: 'tcx', interface: veth.inner, direction: 'egress' });
    try {
      assert.equal(ping(4, veth.outerAddr).status, 0);
      assert.equal(readU64(counts.lookup(u32(0)) ?? new Uint8Array(8)), 4n);
      assert.equal(link.info().type, 'tcx');
      // tcx links stack: a second program on the same hook attaches too.
      const other = await loadCollection(testObject('tc_counter'));
      const second = await other
        .program('count_icmp')
        .attach({ kind: 'tcx', interface: veth.inner, direction: 'egress' });
      assert.equal(ping(2, veth.outerAddr).status, 0);
      assert.equal(readU64(counts.lookup(u32(0)) ?? new Uint8Array(8)), 6n);
      assert.equal(readU64(other.map('tc_counts').lookup(u32(0)) ?? new Uint8Array(8)), 2n);
      second.close();
      other.close();
    } finally {
      link.close();
      coll.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('classic TC (clsact) ingress counts replies and is removed on close', async () => {
    const coll = await loadCollection(testObject('tc_counter'));
    const counts = coll.map('tc_counts');
    const link = await coll
      .program('count_icmp')
      .attach({ kind: 'tc', interface: veth.inner, direction: 'ingress' });
    try {
      assert.equal(ping(3, veth.outerAddr).status, 0);
      assert.equal(readU64(counts.lookup(u32(0)) ?? new Uint8Array(8)), 3n);
      assert.throws(() => link.pin('/sys/fs/bpf/never'), NotSupportedError);
      assert.throws(() => link.update(coll.program('count_icmp')), NotSupportedError);
    } finally {
      link.close();
    }
    assert.equal(ping(2, veth.outerAddr).status, 0);
    assert.equal(
      readU64(counts.lookup(u32(0)) ?? new Uint8Array(8)),
      3n,
      'a closed TC filter counts nothing',
    );
    coll.close();
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('cgroup_skb, connect4 and sockops count a test cgroup traffic', async () => {
    const cgroup = createCgroup();
    const coll = await loadCollection(testObject('cgroup_counters'));
    const links = [];
    try {
      for (const name of ['count_egress', 'count_ingress', 'count_connect4', 'count_sockops']) {
        links.push(await coll.program(name).attach({ kind: 'cgroup', path: cgroup.path }));
      }
      const counts = coll.map('cg_counts');
      const slot = (n: number) => readU64(counts.lookup(u32(n)) ?? new Uint8Array(8));
      // Traffic from outside the cgroup is not counted.
      assert.equal(ping(2, veth.outerAddr).status, 0);
      assert.equal(slot(0), 0n);
      const inCgroup = (script: string) =>
        spawnSync('sh', ['-c', `echo $$ > ${cgroup.path}/cgroup.procs && exec ${script}`], {
          encoding: 'utf8',
        });
      assert.equal(inCgroup(`ping -c 3 -i 0.05 -W 1 ${veth.outerAddr}`).status, 0);
      assert.equal(slot(0), 3n);
      assert.ok(slot(1) >= 3n, 'ingress saw the replies');
      const server = createServer((s) => s.end());
      await new Promise<void>((r) => server.listen(0, veth.innerAddr, r));
      const port = (server.address() as { port: number }).port;
      const client = `${process.execPath} -e "require('net').connect(${port}, '${veth.innerAddr}').on('connect', function () { this.destroy(); })"`;
      // ping connects a UDP socket to pick its source address, so count from here.
      const connectsBefore = slot(2);
      const r = inCgroup(client);
      server.close();
      assert.equal(r.status, 0, r.stderr);
      assert.equal(slot(2) - connectsBefore, 1n, 'one connect4');
      assert.equal(slot(4), 1n, 'one active established sockops event');
      assert.deepEqual(
        links.map((l) => l.info().type),
        ['cgroup', 'cgroup', 'cgroup', 'cgroup'],
      );
    } finally {
      for (const l of links) l.close();
      coll.close();
      cgroup.remove();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });
}
