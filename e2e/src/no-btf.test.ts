// End to end on a kernel without BTF (the agent's /sys/kernel/btf hidden): xdp-firewall from the library runs with
// the minimized BTF its package brings, counting real packets; a package needing kernel BTF, and upgrades with a
// corrupt BTF file or another program's BTF, are refused while what runs keeps running. The kernel is the observer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packArchive, unpackArchive } from '@bpfleet/sdk/archive';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { until } from '@bpfleet/sdk/test-kit';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { buildPackage } from './fixtures/package-build.js';
import { type PublishedDevice, startPublishedDevice } from './truth/published-device.js';

const LIBRARY = fileURLToPath(new URL('../../bpf-programs/xdp-firewall', import.meta.url));
const OTHER_OBJECT = fileURLToPath(new URL('../../build/bpf/cgroup_counters.bpf.o', import.meta.url));
const PASS = 0;

let device: PublishedDevice;
let work: string;

/** xdp-firewall built by `bpfleet build` from the library, with the manifest changed by `edit`. */
async function buildFirewall(dir: string, edit: (m: Manifest) => void, vmlinux?: string) {
  const manifest = JSON.parse(await readFile(join(LIBRARY, 'manifest.json'), 'utf8')) as Manifest;
  edit(manifest);
  return buildPackage({
    dir: join(work, dir),
    manifest,
    sources: [join(LIBRARY, 'xdp-firewall.bpf.c'), join(LIBRARY, 'xdp-firewall.h')],
    ...(vmlinux && { vmlinux }),
  });
}

/** The same package at another version with its minimized BTF replaced by `btf` (signed by the same publisher). */
async function withBtf(archive: Buffer, version: string, btf: Buffer): Promise<Buffer> {
  const { files } = await unpackArchive(archive);
  const manifest = JSON.parse(String(files.get('manifest.json'))) as Manifest;
  manifest.version = version;
  files.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  for (const path of files.keys()) if (path.endsWith('.min.btf')) files.set(path, btf);
  return packArchive([...files].map(([path, data]) => ({ path, data })));
}

/** The XDP program the kernel runs on the device's wan, as `ip -j link` shows it. */
function wanXdp(): number | undefined {
  const [link] = JSON.parse(
    device.net.inDevice('ip', ['-j', 'link', 'show', 'dev', device.net.wan]),
  ) as Array<{
    xdp?: { prog?: { id: number } };
  }>;
  return link?.xdp?.prog?.id;
}

/** Packets the program counted as `pass`, summed over CPUs, read by bpftool from its own `verdicts` map. */
function passCount(progId: number): number {
  const prog = JSON.parse(
    execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(progId)], { encoding: 'utf8' }),
  );
  for (const id of prog.map_ids as number[]) {
    const map = JSON.parse(
      execFileSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' }),
    );
    if (map.name !== 'verdicts') continue;
    const dump = JSON.parse(
      execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8' }),
    ) as Array<{
      formatted?: { key: number; values: Array<{ value: { packets: number } }> };
    }>;
    const entry = dump.find((e) => e.formatted?.key === PASS);
    return (entry?.formatted?.values ?? []).reduce((sum, v) => sum + Number(v.value.packets), 0);
  }
  throw new Error(`program ${progId} has no verdicts map`);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-hdb-nobtf-'));
  device = await startPublishedDevice({
    tag: 'hdb',
    block: 124,
    namespaces: ['bpfleet'],
    allow: (net) => ({ interfaces: [net.wan], cgroups: [] }),
    hideKernelBtf: true,
  });
});

after(async () => {
  await device?.close();
  await rm(work, { recursive: true, force: true });
});

test('xdp-firewall attaches with its package BTF, counts pings; kernel BTF and corrupt BTF packages are refused', async () => {
  const core = await buildFirewall('core', () => {});
  const { files } = await unpackArchive(core.archive);
  // x86 and arm64 compile to the same bytes: one object and its BTF under bpf/any/.
  assert.ok(files.has('bpf/any/xdp-firewall.min.btf'), `packed: ${[...files.keys()].join(', ')}`);
  const needsKernel = await buildFirewall(
    'kernel',
    (m) => {
      m.name = 'bpfleet/xdp-firewall-kbtf';
      m.requires.btf = true;
    },
    core.vmlinux,
  );
  await device.publish(core.archive);
  await device.publish(needsKernel.archive);
  await device.apply([
    { id: 'fw', package: 'bpfleet/xdp-firewall', version: '1.2.0' },
    { id: 'fw-kbtf', package: 'bpfleet/xdp-firewall-kbtf', version: '1.2.0' },
  ]);
  const shown = await device.settled(['fw', 'fw-kbtf'], 60_000);
  const fw = shown.find((p) => p.id === 'fw');
  const kbtf = shown.find((p) => p.id === 'fw-kbtf');
  assert.equal(fw?.status, 'ATTACHED', JSON.stringify(fw));
  assert.notEqual(kbtf?.status, 'ATTACHED', JSON.stringify(kbtf));
  assert.match(kbtf?.lastError?.message ?? '', /kernel BTF/);
  // The agent's mount namespace has the empty tmpfs over /sys/kernel/btf; this test's does not.
  const mounts = await readFile(`/proc/${device.agent.pid}/mountinfo`, 'utf8');
  assert.match(mounts, / \/sys\/kernel\/btf .* - tmpfs bpfleet-no-btf /);
  assert.equal(
    existsSync(`/proc/${device.agent.pid}/root/sys/kernel/btf/vmlinux`),
    false,
    'hidden from the agent',
  );
  assert.equal(existsSync('/sys/kernel/btf/vmlinux'), true, 'this test sees the kernel BTF');

  assert.ok(
    device.agent.logs().some((l) => l.includes('relocates against the package BTF') && l.includes('"fw"')),
    'the agent says it used the package BTF',
  );
  // The kernel runs it on wan: ip -j link and bpftool agree, and it counts real packets.
  const id = wanXdp();
  assert.ok(id, 'ip -j link shows an XDP program on wan');
  assert.deepEqual(xdpPrograms(device.net.deviceNs, device.net.wan), [id]);
  const name = JSON.parse(
    execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' }),
  ).name;
  assert.equal(name, 'xdp_firewall');
  const before = passCount(id);
  const ping = await device.net.ping(20, 0.05);
  assert.equal(ping.received, 20);
  assert.ok(passCount(id) - before >= 20, `counted ${passCount(id) - before} of 20 pings`);

  // An upgrade whose BTF file is garbage fails to load; the running program stays and keeps counting.
  await device.publish(await withBtf(core.archive, '1.2.1', Buffer.from('not BTF: corrupted in transit')));
  await device.apply([{ id: 'fw', package: 'bpfleet/xdp-firewall', version: '1.2.1' }]);
  let last: unknown;
  await until(
    async () => {
      const p = (await device.reported()).find((r) => r.id === 'fw');
      last = p;
      return p?.lastError !== null && p?.lastError !== undefined;
    },
    'the corrupt-BTF upgrade refused',
    45_000,
    () => last,
  );
  const refused = last as { version: string | null; lastError: { message: string } };
  assert.equal(refused.version, '1.2.0', JSON.stringify(last));
  assert.match(refused.lastError.message, /failed to parse target BTF/);
  assert.equal(wanXdp(), id, 'the same program still runs on wan');
  const still = passCount(id);
  assert.equal((await device.net.ping(10, 0.05)).received, 10);
  assert.ok(passCount(id) - still >= 10, 'and still counts');

  // A well-formed BTF of the wrong program (sock_ops and skb types, no xdp_md or iphdr): refused the same way.
  const wrong = join(work, 'wrong.min.btf');
  execFileSync('bpftool', ['gen', 'min_core_btf', '/sys/kernel/btf/vmlinux', wrong, OTHER_OBJECT]);
  await device.publish(await withBtf(core.archive, '1.2.2', await readFile(wrong)));
  await device.apply([{ id: 'fw', package: 'bpfleet/xdp-firewall', version: '1.2.2' }]);
  await until(
    async () => {
      const p = (await device.reported()).find((r) => r.id === 'fw');
      last = p;
      return p?.lastError?.message !== refused.lastError.message && p?.lastError !== null;
    },
    'the wrong-BTF upgrade refused',
    45_000,
    () => last,
  );
  const wrongly = last as { version: string; lastError: { message: string } };
  assert.equal(wrongly.version, '1.2.0', JSON.stringify(last));
  assert.match(wrongly.lastError.message, /failed to resolve CO-RE relocation .*xdp_md/);
  assert.equal(wanXdp(), id, 'the same program still runs on wan');
  const after = passCount(id);
  assert.equal((await device.net.ping(10, 0.05)).received, 10);
  assert.ok(passCount(id) - after >= 10, 'and still counts');
});
