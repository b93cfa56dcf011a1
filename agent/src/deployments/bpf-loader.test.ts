// The kernel Loader against the real kernel: XDP on a veth, counting, lossless upgrade, rejected upgrade kept
// out, adoption by a new loader (a restart), and detach leaving no pin behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { VerifierError } from '@bpfleet/sdk/errors';
import { configDigestOf } from '../agent.js';
import { silentLogger } from '../logger.js';
import type { DeploySpec } from '../ports.js';
import {
  arch,
  buildPackage,
  compileTestObject,
  counterManifest,
  createVeth,
  type Veth,
} from '../testing/kernel-fixtures.js';
import { BpfLoader } from './bpf-loader.js';
import { DeploymentMetaStore } from './deployment-meta.js';

const pinRoot = `/sys/fs/bpf/bpfleet-test-${randomBytes(6).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'bpfleet-agent-loader-'));
let veth: Veth;

before(() => {
  veth = createVeth();
});
after(async () => {
  // Whatever a failed assertion left: detach through a fresh loader, then remove pins and namespace.
  await newLoader()
    .detach('count')
    .catch(() => {});
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  veth?.remove();
});

function newLoader(): BpfLoader {
  return new BpfLoader({
    pinRoot,
    meta: new DeploymentMetaStore(join(dataDir, 'deployments')),
    arch,
    cgroupRoot: '/sys/fs/cgroup',
    allow: { interfaces: [veth.inner], cgroups: [] },
    logger: silentLogger,
  });
}

async function spec(
  version: string,
  object: Uint8Array,
  config: Record<string, number> = {},
): Promise<DeploySpec> {
  const manifest = counterManifest(version);
  const { archive, contents } = await buildPackage(manifest, object);
  return {
    id: 'count',
    pkg: {
      ref: { package: manifest.name, version, digest: sha256Digest(archive), size: archive.length },
      manifestDigest: contents.manifestDigest,
      manifest: contents.manifest,
      contents,
    },
    attach: { interface: veth.inner },
    config,
    configDigest: configDigestOf(config),
  };
}

async function packets(loader: BpfLoader): Promise<Map<string, number>> {
  return new Map((await loader.metrics()).map((m) => [m.key, m.value]));
}

test('attach, count, upgrade without loss, refuse a rejected upgrade, adopt after restart, detach cleanly', async () => {
  const good = compileTestObject('xdp_count');
  const bad = compileTestObject('xdp_rejected');
  const loader = newLoader();
  assert.deepEqual(await loader.adopt(), []);

  const v1 = await loader.attach(await spec('1.0.0', good, { version: 1 }));
  assert.equal(v1.version, '1.0.0');
  const first = veth.ping(5);
  assert.equal(first.received, 5);
  let counts = await packets(loader);
  assert.equal(counts.get('slot=0'), 5);
  assert.equal(counts.get('slot=1'), 1);

  // Upgrade while pings flow: every request is answered and counted by one version or the other.
  const pinging = new Promise<{ sent: number; received: number }>((resolve) => {
    const p = spawn('nsenter', [
      `--net=/run/netns/${veth.ns}`,
      'ping',
      '-q',
      '-c',
      '200',
      '-i',
      '0.005',
      '-W',
      '1',
      veth.innerAddr,
    ]);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', () => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      resolve({ sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) });
    });
  });
  await new Promise((r) => setTimeout(r, 200));
  const v2 = await loader.upgrade(v1, await spec('1.1.0', good, { version: 2 }));
  const during = await pinging;
  assert.equal(v2.version, '1.1.0');
  assert.equal(during.sent, 200);
  assert.equal(during.received, 200, 'no packet lost across the upgrade');
  counts = await packets(loader);
  assert.equal(counts.get('slot=0'), 205, 'the persisted map kept counting across the upgrade');
  assert.equal(counts.get('slot=1'), 2);

  // A version the verifier rejects never reaches the link.
  await assert.rejects(
    loader.upgrade(v2, await spec('1.2.0', bad, { version: 3 })),
    (err: unknown) => err instanceof VerifierError,
  );
  veth.ping(3);
  counts = await packets(loader);
  assert.equal(counts.get('slot=0'), 208);
  assert.equal(counts.get('slot=1'), 2, 'the old version still runs');

  // A new loader (the agent restarted: the old one's fds closed, as exiting does) adopts the pinned link.
  loader.release();
  const restarted = newLoader();
  const adopted = await restarted.adopt();
  assert.deepEqual(
    adopted.map((d) => [d.id, d.version, d.digest]),
    [['count', '1.1.0', v2.digest]],
  );
  veth.ping(2);
  assert.equal((await packets(restarted)).get('slot=0'), 210);

  // Detach, judged by the kernel: no XDP program on the interface, the program freed (nothing holds it), and
  // traffic flowing with nothing counting it.
  const running = xdpProgramOn(veth.inner);
  assert.ok(running !== undefined, 'the adopted program is attached before the detach');
  await restarted.detach('count');
  assert.equal(xdpProgramOn(veth.inner), undefined, 'no XDP program on the interface after detach');
  await programFreed(running);
  assert.equal(existsSync(join(pinRoot, 'count')), false);
  assert.deepEqual(readdirSync(pinRoot), []);
  assert.equal(veth.ping(2).received, 2, 'traffic flows with the program gone');
  assert.deepEqual(await restarted.metrics(), []);
  assert.deepEqual(await newLoader().adopt(), []);
});

/** The id of the XDP program on `dev` (in this namespace) as `ip -j link` reports it. */
function xdpProgramOn(dev: string): number | undefined {
  const out = execFileSync('ip', ['-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' });
  const [link] = JSON.parse(out) as Array<{ xdp?: { prog?: { id: number } } }>;
  return link?.xdp?.prog?.id;
}

/** Waits (the kernel frees programs after an RCU grace period) until `bpftool prog show id` no longer finds it. */
async function programFreed(id: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)]).status !== 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`program ${id} is still in the kernel 2 s after detach: something still holds it`);
}
