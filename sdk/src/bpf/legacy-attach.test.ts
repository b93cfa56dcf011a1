// Kernel tests of the legacy attach forms (netlink XDP, BPF_PROG_ATTACH cgroups), forced with BPFLEET_ATTACH_MODE
// on this kernel and judged by `ip -j link` and `bpftool -j`: attach, atomic replace, drift, adopt, removal.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LegacyLink } from './attach/legacy-link.js';
import { openPinnedAttachment } from './attach/pinned-attachment.js';
import { loadCollection } from './collection.js';
import { ATTACH_MODE_ENV, attachForm } from './internal/link-support.js';
import { FdLink } from './link.js';
import { readU64, u32 } from './map.js';
import { openFds, run, testObject, transmitted } from './testing/fixtures.js';
import {
  cgroupPrograms,
  fbkVeth,
  linkedPrograms,
  removeCgroup,
  type Veth,
  xdpOnHook,
} from './testing/legacy-fixtures.js';
import { insideTestNetns } from './testing/netns-suite.js';

process.env[ATTACH_MODE_ENV] = 'legacy';

if (insideTestNetns(import.meta.url, 'fbk-loader')) {
  let veth: Veth;
  let pins: string;
  let fdsBefore: string[];
  beforeEach(() => {
    veth = fbkVeth();
    pins = `/sys/fs/bpf/fbk-test-${randomBytes(6).toString('hex')}`;
    mkdirSync(pins);
    fdsBefore = openFds();
  });
  afterEach(() => {
    spawnSync('ip', ['link', 'set', 'dev', veth.inner, 'xdp', 'off']);
    veth.remove();
    rmSync(pins, { recursive: true, force: true });
  });

  const count = (map: { lookup(k: Uint8Array): Uint8Array | undefined }) =>
    readU64(map.lookup(u32(0)) ?? new Uint8Array(8));
  const ping = (c: number) => veth.inPeer('ping', ['-c', String(c), '-i', '0.05', '-W', '1', veth.innerAddr]);

  test('the probe finds XDP and cgroup links on this kernel and leaves loopback as it was', async () => {
    delete process.env[ATTACH_MODE_ENV];
    try {
      assert.equal(await attachForm('xdp'), 'link');
      assert.equal(await attachForm('cgroup'), 'link');
      assert.equal(xdpOnHook('lo'), 0, 'the XDP probe closed its loopback link');
      process.env[ATTACH_MODE_ENV] = 'sometimes';
      await assert.rejects(attachForm('xdp'), /BPFLEET_ATTACH_MODE=sometimes: not an attach mode/);
    } finally {
      process.env[ATTACH_MODE_ENV] = 'legacy';
    }
  });

  test('without the override (auto) XDP attaches as a bpf_link, as before', async () => {
    process.env[ATTACH_MODE_ENV] = 'auto';
    const coll = await loadCollection(testObject('xdp_counter'));
    try {
      const link = await coll.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
      assert.ok(link instanceof FdLink);
      assert.ok(linkedPrograms().includes(coll.program('count_pings').id));
      link.close();
      assert.equal(xdpOnHook(veth.inner), 0);
    } finally {
      process.env[ATTACH_MODE_ENV] = 'legacy';
      coll.close();
    }
  });

  test('legacy XDP: netlink attach counts pings, no bpf_link, refuses a busy hook, removal leaves nothing', async () => {
    const coll = await loadCollection(testObject('xdp_counter'));
    const link = await coll.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
    const other = await loadCollection(testObject('xdp_counter'));
    try {
      assert.ok(link instanceof LegacyLink);
      const id = coll.program('count_pings').id;
      assert.equal(xdpOnHook(veth.inner), id);
      assert.ok(!linkedPrograms().includes(id), 'no bpf_link runs the program');
      assert.equal(ping(3).status, 0);
      assert.equal(count(coll.map('counts')), 3n);
      await assert.rejects(
        other.program('count_pings').attach({ kind: 'xdp', interface: veth.inner }),
        /XDP_BUSY|another XDP program/,
      );
      assert.equal(xdpOnHook(veth.inner), id, 'the refused attach replaced nothing');
      link.pin(`${pins}/link`);
      link.remove();
      assert.equal(xdpOnHook(veth.inner), 0);
      assert.equal(existsSync(`${pins}/link`), false);
    } finally {
      link.close();
      other.close();
      coll.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('legacy XDP: a replace under continuous traffic loses no packet (XDP_FLAGS_REPLACE)', async () => {
    const v1 = await loadCollection(testObject('xdp_counter'), { config: { version: 1n } });
    const link = await v1.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
    assert.ok(link instanceof LegacyLink);
    link.pin(`${pins}/link`);
    const flood = spawn('nsenter', [
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
    flood.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const done = new Promise<number | null>((resolve) => flood.on('close', resolve));
    try {
      while (count(v1.map('counts')) < 50n) await new Promise((r) => setTimeout(r, 10));
      const v2 = await loadCollection(testObject('xdp_counter'), {
        config: { version: 2n },
        replaceMaps: { counts: v1.map('counts') },
      });
      link.update(v2.program('count_pings'));
      v1.close();
      assert.ok(count(v2.map('counts')) < 300n, 'the swap happened while traffic was flowing');
      assert.equal(xdpOnHook(veth.inner), v2.program('count_pings').id);
      assert.equal(await done, 0, output);
      assert.equal(count(v2.map('counts')), BigInt(transmitted(output)));
      // The pin follows the swap: a restarted agent finds the program that runs.
      const adopted = openPinnedAttachment(`${pins}/link`, { kind: 'xdp', interface: veth.inner });
      assert.equal(adopted.info().programId, v2.program('count_pings').id);
      adopted.close();
      link.remove();
      v2.close();
      assert.equal(xdpOnHook(veth.inner), 0);
    } finally {
      flood.kill();
      link.close();
      v1.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('legacy XDP: `xdp off` shows as detached; the stale handle never removes its successor; adopt by id', async () => {
    const coll = await loadCollection(testObject('xdp_counter'));
    const first = await coll.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
    assert.ok(first instanceof LegacyLink);
    first.pin(`${pins}/link`);
    let fresh: FdLink | LegacyLink | undefined;
    try {
      run('ip', ['link', 'set', 'dev', veth.inner, 'xdp', 'off']);
      assert.equal(first.info().ifindex, 0, 'detached');
      fresh = (await coll
        .program('count_pings')
        .attach({ kind: 'xdp', interface: veth.inner })) as LegacyLink;
      first.remove();
      assert.equal(xdpOnHook(veth.inner), coll.program('count_pings').id, 'the successor stays');
      fresh.pin(`${pins}/link`);
      fresh.close();
      assert.equal(
        xdpOnHook(veth.inner),
        coll.program('count_pings').id,
        'a pinned attachment outlives its handle',
      );
      // Another process after a restart: the pin holds the program, the hook shows its id.
      const adopted = openPinnedAttachment(`${pins}/link`, {
        kind: 'xdp',
        interface: veth.inner,
        mode: 'auto',
      });
      assert.equal(adopted.info().programId, coll.program('count_pings').id);
      const [dev] = JSON.parse(run('ip', ['-j', 'link', 'show', 'dev', veth.inner])) as { ifindex: number }[];
      assert.equal(adopted.info().ifindex, dev?.ifindex);
      adopted.remove();
      assert.equal(xdpOnHook(veth.inner), 0);
      assert.throws(
        () => openPinnedAttachment(`${pins}/link`, { kind: 'xdp', interface: veth.inner }),
        /ENOENT/,
      );
    } finally {
      first.close();
      fresh?.close();
      coll.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('legacy XDP: another program put in our program’s place is seen and swapped back atomically', async () => {
    const coll = await loadCollection(testObject('xdp_counter'));
    const foreign = await loadCollection(testObject('xdp_counter'));
    const link = await coll.program('count_pings').attach({ kind: 'xdp', interface: veth.inner });
    assert.ok(link instanceof LegacyLink);
    try {
      const ours = coll.program('count_pings').id;
      const theirs = foreign.program('count_pings').id;
      // What another root process could do: replace the program on the hook through netlink.
      run('bpftool', ['net', 'attach', 'xdp', 'id', String(theirs), 'dev', veth.inner, 'overwrite']);
      assert.equal(xdpOnHook(veth.inner), theirs);
      assert.equal(link.info().programId, theirs, 'the hook runs another program');
      assert.ok((link.info().ifindex ?? 0) > 0, 'and is still ours to repair');
      link.update(coll.program('count_pings'));
      assert.equal(xdpOnHook(veth.inner), ours, 'swapped back');
      link.remove();
      assert.equal(xdpOnHook(veth.inner), 0);
    } finally {
      link.close();
      coll.close();
      foreign.close();
    }
    assert.deepEqual(openFds(), fdsBefore);
  });

  test('legacy XDP needs no CAP_SYS_ADMIN: attach, replace and close with CAP_BPF and CAP_NET_ADMIN alone', () => {
    const child = spawnSync(
      'setpriv',
      [
        '--bounding-set=-all,+bpf,+net_admin,+perfmon',
        process.execPath,
        fileURLToPath(new URL('./testing/legacy-child.js', import.meta.url)),
        veth.inner,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const seen = JSON.parse(child.stdout) as { attached: number; updated: number };
    assert.ok(seen.attached > 0 && seen.updated > 0 && seen.updated !== seen.attached, child.stdout);
    assert.equal(xdpOnHook(veth.inner), 0, 'closed unpinned: taken off the hook');
  });

  test('legacy cgroup: BPF_PROG_ATTACH multi counts, replaces in place, is adopted and removed', async () => {
    const path = `/sys/fs/cgroup/unified/fbk-${randomBytes(6).toString('hex')}`;
    mkdirSync(path);
    const coll = await loadCollection(testObject('cgroup_counters'));
    const next = await loadCollection(testObject('cgroup_counters'));
    const link = await coll.program('count_egress').attach({ kind: 'cgroup', path });
    try {
      assert.ok(link instanceof LegacyLink);
      const id = coll.program('count_egress').id;
      assert.deepEqual(
        cgroupPrograms(path).map((p) => [p.id, p.attach_type, p.attach_flags]),
        [[id, 'cgroup_inet_egress', 'multi']],
      );
      assert.ok(!linkedPrograms().includes(id), 'no bpf_link runs the program');
      const inCgroup = spawnSync(
        'sh',
        ['-c', `echo $$ > ${path}/cgroup.procs && exec ping -c 3 -i 0.05 -W 1 ${veth.outerAddr}`],
        { encoding: 'utf8' },
      );
      assert.equal(inCgroup.status, 0, inCgroup.stderr);
      assert.equal(count(coll.map('cg_counts')), 3n);
      link.pin(`${pins}/link`);
      link.update(next.program('count_egress'));
      const nextId = next.program('count_egress').id;
      assert.deepEqual(
        cgroupPrograms(path).map((p) => p.id),
        [nextId],
        'replaced in place (BPF_F_REPLACE)',
      );
      link.close();
      assert.deepEqual(
        cgroupPrograms(path).map((p) => p.id),
        [nextId],
        'pinned: stays after close',
      );
      const adopted = openPinnedAttachment(`${pins}/link`, { kind: 'cgroup', path });
      assert.equal(adopted.info().programId, nextId);
      assert.ok((adopted.info().cgroupId ?? 0n) > 0n);
      run('bpftool', ['cgroup', 'detach', path, 'egress', 'id', String(nextId)]);
      assert.equal(adopted.info().cgroupId, 0n, 'a detach behind our back shows');
      adopted.remove();
      assert.deepEqual(cgroupPrograms(path), []);
    } finally {
      link.close();
      coll.close();
      next.close();
      for (const p of cgroupPrograms(path))
        spawnSync('bpftool', ['cgroup', 'detach', path, p.attach_type, 'id', String(p.id)]);
      await removeCgroup(path);
    }
    assert.deepEqual(openFds(), fdsBefore);
  });
}
