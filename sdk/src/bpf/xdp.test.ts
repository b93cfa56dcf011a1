// Kernel tests: XDP counts real pings through a veth pair, a pinned link outlives its process,
// and a program upgrade under continuous traffic loses no packet.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BpfError } from '../errors.js';
import { loadCollection } from './collection.js';
import { openPinnedLink } from './link.js';
import { openPinnedMap, readU64, u32 } from './map.js';
import {
  createVethPair,
  openFds,
  pinDir,
  testObject,
  transmitted,
  type VethPair,
} from './testing/fixtures.js';
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

  const count = (map: { lookup(k: Uint8Array): Uint8Array | undefined }, slot: number) =>
    readU64(map.lookup(u32(slot)) ?? new Uint8Array(8));

  for (const mode of ['driver', 'generic'] as const) {
    test(`xdp (${mode}) counts pings and sets config before load`, async () => {
      const coll = await loadCollection(testObject('xdp_counter'), { config: { version: 42n } });
      const link = await coll.program('count_pings').attach({ kind: 'xdp', interface: veth.inner, mode });
      try {
        const ping = veth.inPeer('ping', ['-c', '5', '-i', '0.05', '-W', '1', veth.innerAddr]);
        assert.equal(ping.status, 0, String(ping.stdout));
        assert.equal(count(coll.map('counts'), 0), 5n);
        assert.equal(count(coll.map('counts'), 1), 42n);
        const perCpu = coll.map('percpu_counts').lookupPerCpu(u32(0)) ?? [];
        assert.equal(
          perCpu.reduce((sum, v) => sum + readU64(v), 0n),
          5n,
        );
        assert.equal(link.info().type, 'xdp');
        assert.equal(link.info().programId, coll.program('count_pings').id);
        const entries = coll.map('counts').entries();
        assert.equal(entries.length, 4);
      } finally {
        link.close();
        coll.close();
      }
      assert.deepEqual(openFds(), fdsBefore);
    });
  }

  test('a second XDP program on the interface fails EBUSY and leaks nothing', async () => {
    const first = await loadCollection(testObject('xdp_counter'));
    const link = await first.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
    const second = await loadCollection(testObject('xdp_counter'));
    try {
      await assert.rejects(
        second.program('count_pings').attach({ kind: 'xdp', interface: veth.inner }),
        (err: unknown) => err instanceof BpfError && err.code === 'XDP_BUSY' && /EBUSY/.test(err.message),
      );
    } finally {
      second.close();
      link.close();
      first.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('an upgrade under continuous traffic loses no packet and keeps the counts', async () => {
    const v1 = await loadCollection(testObject('xdp_counter'), { config: { version: 1n } });
    const link = await v1.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
    const ping = spawn('nsenter', [
      `--net=/run/netns/${veth.peer}`,
      'ping',
      '-c',
      '300',
      '-i',
      '0.005',
      '-W',
      '1',
      veth.innerAddr,
    ]);
    let output = '';
    ping.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const done = new Promise<number | null>((resolve) => ping.on('close', resolve));
    try {
      // Swap once traffic flows: the new program reuses the counts map, so counting continues.
      while (count(v1.map('counts'), 0) < 50n) await new Promise((r) => setTimeout(r, 10));
      const v2 = await loadCollection(testObject('xdp_counter'), {
        config: { version: 2n },
        replaceMaps: { counts: v1.map('counts') },
      });
      link.update(v2.program('count_pings'));
      v1.close();
      const counted = () => count(v2.map('counts'), 0);
      assert.ok(counted() < 300n, 'the swap happened while traffic was flowing');
      assert.equal(await done, 0, output);
      assert.equal(counted(), BigInt(transmitted(output)));
      assert.equal(count(v2.map('counts'), 1), 2n);
      assert.equal(link.info().programId, v2.program('count_pings').id);
      link.close();
      v2.close();
    } finally {
      ping.kill();
      link.close();
      v1.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('a pinned link survives its process and is adopted by a new one', async () => {
    const pins = pinDir();
    try {
      const child = spawnSync(
        process.execPath,
        [fileURLToPath(new URL('./testing/pin-child.js', import.meta.url)), veth.inner, pins.path],
        { encoding: 'utf8' },
      );
      assert.equal(child.status, 0, child.stderr);
      assert.deepEqual(pins.entries().sort(), ['counts', 'link']);
      const link = openPinnedLink(`${pins.path}/link`);
      const counts = openPinnedMap(`${pins.path}/counts`);
      try {
        assert.equal(link.info().type, 'xdp');
        const ping = veth.inPeer('ping', ['-c', '3', '-i', '0.05', '-W', '1', veth.innerAddr]);
        assert.equal(ping.status, 0);
        assert.equal(count(counts, 0), 3n);
        // The adopter can upgrade the adopted link in place.
        const next = await loadCollection(testObject('xdp_counter'), {
          config: { version: 9n },
          replaceMaps: { counts: `${pins.path}/counts` },
        });
        link.update(next.program('count_pings'));
        veth.inPeer('ping', ['-c', '2', '-i', '0.05', '-W', '1', veth.innerAddr]);
        assert.equal(count(counts, 0), 5n);
        assert.equal(count(counts, 1), 9n);
        link.unpin();
        counts.unpin(`${pins.path}/counts`);
        link.detach();
        next.close();
        veth.inPeer('ping', ['-c', '1', '-W', '1', veth.innerAddr]);
        assert.equal(count(counts, 0), 5n, 'a detached link counts nothing');
      } finally {
        link.close();
        counts.close();
      }
      assert.deepEqual(pins.entries(), []);
    } finally {
      pins.remove();
    }
    assert.equal(existsSync(pins.path), false);
    assert.deepEqual(openFds(), fdsBefore);
  });
}
