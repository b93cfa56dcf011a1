// Issue #16, targeting by capability, end to end: the real edge and agent; policies applied with the `bpfleet`
// CLI. A device policy whose target.where asks for kernel >= 99 reaches this 6.18 device as a signed policy, the
// CLI says before and after applying that the device is left out and why, the device reports TARGET_EXCLUDED and
// the kernel shows nothing attached on its wan; a selector the device meets attaches (bpftool sees the program).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testObjectArch as arch } from '@bpfleet/agent';
import { packArchive } from '@bpfleet/sdk/archive';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import { xdpPrograms } from '../fixtures/kernel-state.js';
import { type PublishedDevice, startPublishedDevice } from './published-device.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const OBJECT = readFileSync(join(ROOT, 'build', 'bpf', 'xdp_counter.bpf.o'));
const CLI = join(ROOT, 'sdk', 'dist', 'cli', 'main.js');
const PACKAGE = 'acme/hei-count';
const run = promisify(execFile);

let device: PublishedDevice;

before(async () => {
  device = await startPublishedDevice({
    tag: 'hei',
    block: 125,
    namespaces: ['acme'],
    allow: (net) => ({ interfaces: [net.wan], cgroups: [] }),
  });
  const manifest: Manifest = {
    name: PACKAGE,
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'count_pings' }],
    requires: { arches: [arch as Manifest['requires']['arches'][number]], programTypes: ['xdp'] },
  };
  await device.publish(
    await packArchive([
      { path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
      { path: `bpf/${arch}/count.bpf.o`, data: OBJECT },
    ]),
  );
});

after(async () => {
  await device?.close();
});

async function bpfleet(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [
    CLI,
    ...args,
    '--registry',
    device.edge.url,
    '--token',
    device.edge.adminToken,
  ]);
  return stdout;
}

/** `policy diff`, which exits 1 when applying would change something (kubectl diff's convention). */
async function diffPolicy(file: string): Promise<string> {
  try {
    await bpfleet('policy', 'diff', '-f', file);
  } catch (err) {
    const e = err as { code: number; stdout: string };
    if (e.code === 1) return e.stdout;
    throw err;
  }
  throw new Error(`policy diff -f ${file}: exit 0 (no change) where a change was expected`);
}

/** A policy file for this device with `where` as its selector; serial and expiry filled in by the CLI. */
async function policyFile(name: string, where: string): Promise<string> {
  const file = join(device.edgeDataDir, '..', `${name}.yaml`);
  await writeFile(
    file,
    `fleet: ${device.fleet}
target: { device: ${device.deviceId}, where: ${where} }
programs:
  - { id: hei-count, package: ${PACKAGE}, version: 1.0.0, attach: { interface: ${device.net.wan} } }
`,
  );
  return file;
}

/** Names of the programs XDP runs on the device's wan, by the kernel's account. */
function xdpNames(): string[] {
  return xdpPrograms(device.net.deviceNs, device.net.wan).map(
    (id) =>
      (
        JSON.parse(
          execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' }),
        ) as {
          name: string;
        }
      ).name,
  );
}

test('the device reports its inventory; the edge and `bpfleet fleet device` show it', async () => {
  await until(
    async () => Boolean((await device.edge.fleet.getDevice(device.deviceId)).inventory),
    'the inventory at the edge',
    45_000,
  );
  const { inventory } = await device.edge.fleet.getDevice(device.deviceId);
  assert.equal(inventory?.kernel.release, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  assert.equal(inventory?.btf, 'kernel');
  assert.equal(inventory?.programTypes.xdp, true);
  const shown = await bpfleet('fleet', 'device', device.deviceId);
  assert.match(shown, new RegExp(`kernel +${inventory?.kernel.release.replaceAll('.', '\\.')}`));
  assert.match(shown, /program types .*xdp/);
});

test('kernel >= 99: the CLI says the device is left out and why, and the kernel shows nothing attached', async () => {
  const file = await policyFile('kernel-99', '{ kernel: ">=99" }');
  const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const why = `target.where: kernel ${release} is not >=99`;
  const diff = await diffPolicy(file);
  assert.match(diff, /reaches 0 device\(s\)/);
  assert.ok(diff.includes(`left out ${device.deviceId}:\n  - ${why}`), diff);
  const dry = await bpfleet('policy', 'apply', '-f', file, '--key', device.operatorKeyFile, '--dry-run');
  assert.match(dry, /^checked \(dry run\) policy serial 1 /);
  assert.ok(dry.includes(why), dry);
  const applied = await bpfleet('policy', 'apply', '-f', file, '--key', device.operatorKeyFile);
  assert.match(applied, /^published policy serial 1 /);
  assert.ok(applied.includes(why), applied);
  const topic = deviceTopic(device.fleet, device.deviceId, 'desired');
  await until(
    async () => {
      const d = await device.edge.fleet.getDevice(device.deviceId);
      return d.policyErrors[topic]?.code === 'TARGET_EXCLUDED';
    },
    'the device reporting TARGET_EXCLUDED',
    45_000,
  );
  const reported = await device.edge.fleet.getDevice(device.deviceId);
  assert.match(reported.policyErrors[topic]?.message ?? '', /serial 1: .*kernel .* is not >=99/);
  assert.deepEqual(reported.programs, []);
  // The kernel, sampled for two seconds after the device said so: nothing runs on the wan.
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(xdpNames(), []);
    await new Promise((r) => setTimeout(r, 100));
  }
});

test('a selector the device meets attaches: bpftool finds the program on the wan', async () => {
  const file = await policyFile('meets', '{ kernel: ">=6.6", arch: [x86], btf: true, programTypes: [xdp] }');
  const diff = await diffPolicy(file);
  assert.match(diff, new RegExp(`reaches 1 device\\(s\\): ${device.deviceId}`));
  assert.match(diff, /: 1 change\(s\) on 1 device/);
  assert.match(diff, /~ target\.where: \{"kernel":">=99"\} → \{"arch":\["x86"\],"kernel":">=6\.6"/);
  assert.match(
    await bpfleet('policy', 'apply', '-f', file, '--key', device.operatorKeyFile),
    /reaches 1 device/,
  );
  const [program] = await device.settled(['hei-count']);
  assert.equal(program?.status, 'ATTACHED');
  await until(
    () => xdpNames().join() === 'count_pings',
    'count_pings on the wan (bpftool)',
    10_000,
    xdpNames,
  );
  const topic = deviceTopic(device.fleet, device.deviceId, 'desired');
  assert.equal((await device.edge.fleet.getDevice(device.deviceId)).policyErrors[topic], undefined);
});
