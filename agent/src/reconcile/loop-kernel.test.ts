// The reconcile loop on the real BpfLoader and kernel: drift is seen and repaired, a rename on XDP never empties
// the hook. The kernel is the observer (`ip -j link`, `bpftool -j`, pings); the agent's reports are checked too.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { Agent } from '../agent.js';
import { BpfLoader } from '../deployments/bpf-loader.js';
import { DeploymentMetaStore } from '../deployments/deployment-meta.js';
import { silentLogger } from '../logger.js';
import type { PackageRef, VerifiedPackage, WantedProgram } from '../ports.js';
import type { EventState, ProgramReport } from '../reporting/report.js';
import { arch, buildPackage, libraryProgram } from '../testing/kernel-fixtures.js';

// Names carry this helper's tag; addresses are from 198.18.108.0/24 only.
const tag = `h6a${randomBytes(2).toString('hex')}`;
const ns = `${tag}-peer`;
const inner = `${tag}i`;
const outer = `${tag}o`;
const innerAddr = '198.18.108.1';
const outerAddr = '198.18.108.2';
const pinRoot = `/sys/fs/bpf/bpfleet-${tag}`;
const dataDir = mkdtempSync(join(tmpdir(), `bpfleet-${tag}-`));
// A second wan for moves: 198.18.108.4/30.
const inner2 = `${tag}j`;
const outer2 = `${tag}p`;
const allow = { interfaces: [inner, inner2], cgroups: [] };

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const inPeer = (args: string[]) => sh('nsenter', [`--net=/run/netns/${ns}`, ...args]);

/** The wan veth: `inner` here (the device side), `outer` in the peer namespace that sends pings. */
function createWan(): void {
  sh('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer, 'netns', ns]);
  sh('ip', ['addr', 'add', `${innerAddr}/30`, 'dev', inner]);
  sh('ip', ['link', 'set', inner, 'up']);
  inPeer(['ip', 'addr', 'add', `${outerAddr}/30`, 'dev', outer]);
  inPeer(['ip', 'link', 'set', outer, 'up']);
}

function pings(count: number): number {
  const r = spawnSync(
    'nsenter',
    [`--net=/run/netns/${ns}`, 'ping', '-q', '-c', String(count), '-i', '0.01', '-W', '1', innerAddr],
    { encoding: 'utf8' },
  );
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? -1);
}

/** The XDP program id on the wan interface as the kernel shows it, or undefined. */
function xdpProgram(dev = inner): number | undefined {
  const [link] = JSON.parse(sh('ip', ['-j', 'link', 'show', 'dev', dev])) as Array<{
    xdp?: { prog?: { id: number }; attached?: Array<{ prog?: { id: number } }> };
  }>;
  return link?.xdp?.prog?.id ?? link?.xdp?.attached?.[0]?.prog?.id;
}

before(() => {
  sh('ip', ['netns', 'add', ns]);
  inPeer(['ip', 'link', 'set', 'lo', 'up']);
  createWan();
  sh('ip', ['link', 'add', inner2, 'type', 'veth', 'peer', 'name', outer2, 'netns', ns]);
  sh('ip', ['addr', 'add', '198.18.108.5/30', 'dev', inner2]);
  sh('ip', ['link', 'set', inner2, 'up']);
  inPeer(['ip', 'addr', 'add', '198.18.108.6/30', 'dev', outer2]);
  inPeer(['ip', 'link', 'set', outer2, 'up']);
});

after(() => {
  spawnSync('ip', ['link', 'del', inner]);
  spawnSync('ip', ['link', 'del', inner2]);
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

interface Loop {
  agent: Agent;
  loader: BpfLoader;
  events: Array<[EventState, string, string | undefined]>;
  reports: () => ProgramReport[];
  setWanted: (w: WantedProgram[]) => void;
}

async function loop(): Promise<Loop> {
  const { object, manifest } = libraryProgram('xdp-firewall');
  const { archive, contents } = await buildPackage(manifest, object);
  const ref: PackageRef = {
    package: manifest.name,
    version: manifest.version,
    digest: sha256Digest(archive),
    size: archive.length,
  };
  let wanted: WantedProgram[] = [];
  let reports: ProgramReport[] = [];
  const events: Loop['events'] = [];
  const loader = new BpfLoader({
    pinRoot,
    meta: new DeploymentMetaStore(join(dataDir, 'deployments')),
    arch,
    cgroupRoot: '/sys/fs/cgroup',
    allow,
    logger: silentLogger,
  });
  const agent = new Agent({
    logger: silentLogger,
    allow,
    policies: { ready: () => true, wanted: () => wanted },
    index: { resolve: async () => ref },
    // Signatures have their own tests; the archive goes to the loader unpacked for real.
    fetcher: { fetch: async (r) => ({ ref: r, archive, bundle: {} }) },
    verifier: {
      verify: async (a): Promise<VerifiedPackage> => ({
        ref: a.ref,
        manifestDigest: contents.manifestDigest,
        manifest: contents.manifest,
        contents,
      }),
    },
    probe: { missing: async () => [] },
    loader,
    onEvent: (state, f) => events.push([state, f.deployment, f.reason?.code]),
    onReport: (r) => {
      reports = r;
    },
  });
  return {
    agent,
    loader,
    events,
    reports: () => reports,
    setWanted: (w) => {
      wanted = w;
    },
  };
}

/** The firewall blocking the peer: its pings drop while the program is on the hook. */
function firewall(id: string): WantedProgram {
  return {
    id,
    package: 'bpfleet/xdp-firewall',
    version: '1.2.0',
    attach: { interface: inner, mode: 'driver' },
    maps: { blocklist_v4: [{ key: { prefixlen: 32, addr: outerAddr }, value: 1 }] },
    source: 'device:h6a',
  };
}

test('drift through the loop: a deleted pin, xdp off, the interface gone and back, each seen and repaired', async (t) => {
  const l = await loop();
  t.after(async () => {
    await l.loader.detach('fw').catch(() => {});
  });
  l.setWanted([firewall('fw')]);
  await l.agent.reconcile();
  const prog = xdpProgram();
  assert.ok(prog, 'the firewall is on the hook');
  assert.equal(pings(5), 0, 'the peer is blocked');
  const since = () => l.events.splice(0).map(([s, , code]) => (code ? `${s} ${code}` : s));
  since();

  // 1. The link pin deleted (what an attacker with the pin directory could do): re-pinned, still attached.
  const links = join(pinRoot, 'fw', 'links');
  for (const pin of readdirSync(links)) unlinkSync(join(links, pin));
  await l.agent.checkKernel();
  assert.deepEqual(since(), ['DRIFTED DRIFT_PIN_MISSING', 'ATTACHED']);
  assert.ok(readdirSync(links).length > 0, 'pinned again');
  assert.equal(xdpProgram(), prog);
  assert.equal(l.reports()[0]?.status, 'ATTACHED');

  // 2. `ip link set … xdp off`: the kernel refuses to detach a bpf_link's program (so the program stays), or it
  // detaches and the loop attaches it again.
  const off = spawnSync('ip', ['link', 'set', 'dev', inner, 'xdp', 'off'], { encoding: 'utf8' });
  await l.agent.checkKernel();
  if (off.status === 0 && xdpProgram() === undefined)
    assert.fail('xdp off detached it and the loop did not repair it');
  if (off.status !== 0) {
    assert.deepEqual(since(), [], `the kernel refused (${off.stderr.trim()}): nothing drifted`);
    t.diagnostic(`xdp off refused by the kernel: ${off.stderr.trim()}`);
  } else t.diagnostic(`xdp off: ${since().join(', ')}`);
  assert.ok(xdpProgram(), 'a program is on the hook after xdp off');
  assert.equal(pings(5), 0);

  // 3. The interface disappears: DRIFTED (waiting) until it comes back, then attached to the new interface.
  sh('ip', ['link', 'del', inner]);
  await l.agent.checkKernel();
  await l.agent.checkKernel();
  assert.deepEqual(since(), ['DRIFTED DRIFT_TARGET_MISSING'], 'announced once');
  assert.equal(l.reports()[0]?.status, 'DRIFTED');
  assert.equal(l.reports()[0]?.lastError?.code, 'DRIFT_TARGET_MISSING');
  createWan();
  assert.equal(xdpProgram(), undefined, 'a new interface starts without the program');
  await l.agent.checkKernel();
  const events = since();
  assert.equal(events.at(-1), 'ATTACHED', events.join(', '));
  assert.equal(l.reports()[0]?.status, 'ATTACHED');
  assert.ok(xdpProgram(), 'attached to the re-created interface');
  assert.equal(pings(5), 0, 'and it blocks the peer again');
});

test('a rename on XDP through the loop: a program on the hook at every 1 ms sample, nothing of the old id left', async (t) => {
  const l = await loop();
  t.after(async () => {
    for (const id of ['fw-a', 'fw-b']) await l.loader.detach(id).catch(() => {});
  });
  l.setWanted([firewall('fw-a')]);
  await l.agent.reconcile();
  assert.ok(xdpProgram());
  const samples = join(dataDir, 'samples');
  const stop = join(dataDir, 'stop');
  const poller = spawn(
    'sh',
    ['-c', `while [ ! -e ${stop} ]; do ip -o link show dev ${inner}; sleep 0.001; done > ${samples}`],
    { stdio: 'ignore' },
  );
  t.after(() => {
    poller.kill();
  });
  const count = () => (existsSync(samples) ? readFileSync(samples, 'utf8').split('\n').length - 1 : 0);
  const atLeast = async (n: number) => {
    while (count() < n) await new Promise((r) => setTimeout(r, 5));
  };
  await atLeast(10);
  l.setWanted([firewall('fw-b')]);
  const before = count();
  await l.agent.reconcile();
  const during = count() - before;
  await atLeast(count() + 10);
  writeFileSync(stop, '');
  await new Promise((r) => poller.once('exit', r));
  const lines = readFileSync(samples, 'utf8').trim().split('\n');
  assert.ok(during > 0, 'sampled while the rename ran');
  const empty = lines.filter((line) => !/prog\/xdp id \d+/.test(line));
  assert.equal(
    empty.length,
    0,
    `${empty.length} of ${lines.length} samples (${during} during) had no XDP program`,
  );
  t.diagnostic(`${lines.length} samples, ${during} while the rename ran`);
  assert.deepEqual(
    l.reports().map((r) => [r.id, r.status]),
    [['fw-b', 'ATTACHED']],
  );
  assert.ok(!l.events.some(([s]) => s === 'FAILED' || s === 'REMOVED'), JSON.stringify(l.events));
  assert.equal(existsSync(join(pinRoot, 'fw-a')), false, "the old id's pins are gone");
  assert.equal(pings(5), 0, 'the renamed firewall blocks the peer');
});

test('another interface through the loop: attached there before it leaves the old one', async (t) => {
  const l = await loop();
  t.after(async () => {
    for (const id of ['mv', 'mv-NEXT']) await l.loader.detach(id).catch(() => {});
  });
  l.setWanted([firewall('mv')]);
  await l.agent.reconcile();
  assert.ok(xdpProgram(inner));
  const samples = join(dataDir, 'move-samples');
  const stop = join(dataDir, 'move-stop');
  const poller = spawn(
    'sh',
    [
      '-c',
      `while [ ! -e ${stop} ]; do echo "$(ip -o link show dev ${inner}) | $(ip -o link show dev ${inner2})"; done > ${samples}`,
    ],
    { stdio: 'ignore' },
  );
  t.after(() => {
    poller.kill();
  });
  const count = () => (existsSync(samples) ? readFileSync(samples, 'utf8').split('\n').length - 1 : 0);
  while (count() < 5) await new Promise((r) => setTimeout(r, 5));
  l.setWanted([{ ...firewall('mv'), attach: { interface: inner2, mode: 'driver' } }]);
  await l.agent.reconcile();
  const after = count();
  while (count() < after + 5) await new Promise((r) => setTimeout(r, 5));
  writeFileSync(stop, '');
  await new Promise((r) => poller.once('exit', r));
  const lines = readFileSync(samples, 'utf8').trim().split('\n');
  const empty = lines.filter((line) => !/prog\/xdp id \d+/.test(line));
  assert.equal(
    empty.length,
    0,
    `${empty.length} of ${lines.length} samples had the program on neither interface`,
  );
  t.diagnostic(`${lines.length} samples of both interfaces`);
  assert.equal(xdpProgram(inner), undefined, 'gone from the old interface');
  assert.ok(xdpProgram(inner2), 'on the new one');
  assert.deepEqual(
    l.reports().map((r) => [r.id, r.status, r.attach?.interface]),
    [['mv', 'ATTACHED', inner2]],
  );
  assert.deepEqual(readdirSync(pinRoot).sort(), ['mv'], 'no pins of the passing id left');
});
