// The real xdp-firewall driven by policy map entries: a blocked source's pings drop, an entries-only change
// unblocks it in place (same program), bad entries are refused with what runs untouched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openPinnedLink, openPinnedMap } from '@bpfleet/sdk/bpf';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { parseManifest } from '@bpfleet/sdk/manifest';
import type { PolicyMapEntry } from '@bpfleet/sdk/policy';
import { Agent } from '../agent.js';
import { silentLogger } from '../logger.js';
import type { PackageRef, WantedProgram } from '../ports.js';
import type { ProgramReport } from '../reporting/report.js';
import { buildPackage, createVeth, libraryProgram, type Veth } from '../testing/kernel-fixtures.js';
import { BpfLoader } from './bpf-loader.js';
import { DeploymentMetaStore } from './deployment-meta.js';

const pinRoot = `/sys/fs/bpf/bpfleet-test-${randomBytes(6).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'bpfleet-agent-maps-'));
let veth: Veth;

before(() => {
  veth = createVeth();
});
after(async () => {
  await loader()
    .detach('fw')
    .catch(() => {});
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  veth?.remove();
});

function loader(): BpfLoader {
  return new BpfLoader({
    pinRoot,
    meta: new DeploymentMetaStore(join(dataDir, 'deployments')),
    arch: process.arch === 'arm64' ? 'arm64' : 'x86',
    cgroupRoot: '/sys/fs/cgroup',
    allow: { interfaces: [veth.inner], cgroups: [] },
    logger: silentLogger,
  });
}

const prefix = (addr: string, prefixlen: number): PolicyMapEntry => ({ key: { prefixlen, addr }, value: 1 });

/** The XDP program on the interface, as `ip -j link` reports it (undefined when none is attached). */
function attachedProgram(): number | undefined {
  const out = execFileSync('ip', ['-j', 'link', 'show', 'dev', veth.inner], { encoding: 'utf8' });
  const [link] = JSON.parse(out) as Array<{ xdp?: { prog?: { id: number } } }>;
  return link?.xdp?.prog?.id;
}

/** The program the pinned link runs, asserted to be the one the kernel runs on the interface. */
function programId(): number {
  const link = openPinnedLink(join(pinRoot, 'fw', 'links', 'xdp_firewall'));
  try {
    const id = link.info().programId;
    assert.equal(
      attachedProgram(),
      id,
      `the pinned link's program ${id} is the XDP program on ${veth.inner}`,
    );
    return id;
  } finally {
    link.close();
  }
}

/** The pinned maps as the kernel holds them: trie keys (`addr/len`) and the /16 prefilter entries. */
function pinnedState(): { trie: string[]; slash16: Map<number, string> } {
  const trie = openPinnedMap(join(pinRoot, 'fw', 'maps', 'blocklist_v4'));
  const bits = openPinnedMap(join(pinRoot, 'fw', 'maps', 'blocklist_v4_slash16'));
  try {
    const keys = trie.keys().map((k) => `${[...k.subarray(4)].join('.')}/${Buffer.from(k).readUInt32LE(0)}`);
    const slash16 = new Map(
      bits
        .entries()
        .filter(([, v]) => v.some((b) => b !== 0))
        .map(([k, v]) => [
          Buffer.from(k).readUInt32LE(0),
          Buffer.from(v)
            .toString('hex')
            .replace(/(00)+$/, ''),
        ]),
    );
    return { trie: keys.sort(), slash16 };
  } finally {
    trie.close();
    bits.close();
  }
}

test('policy entries fill the firewall blocklist, change in place, and bad ones are refused', async () => {
  const { object, manifest } = libraryProgram('xdp-firewall');
  parseManifest(manifest); // the library manifest as shipped is valid
  const { archive, contents } = await buildPackage(manifest, object);
  const ref: PackageRef = {
    package: manifest.name,
    version: manifest.version,
    digest: sha256Digest(archive),
    size: archive.length,
  };
  let wanted: WantedProgram[] = [];
  let reports: ProgramReport[] = [];
  const want = (maps: Record<string, PolicyMapEntry[]>) => {
    wanted = [
      {
        id: 'fw',
        package: ref.package,
        version: ref.version,
        attach: { interface: veth.inner },
        maps,
        source: 'device:t',
      },
    ];
  };
  const agent = new Agent({
    logger: silentLogger,
    allow: { interfaces: [veth.inner], cgroups: [] },
    policies: { ready: () => true, wanted: () => wanted },
    index: { resolve: async () => ref },
    // Signatures have their own tests; here the archive goes straight to the loader, unpacked for real.
    fetcher: { fetch: async (r) => ({ ref: r, archive, bundle: {} }) },
    verifier: {
      verify: async (a) => ({
        ref: a.ref,
        manifestDigest: contents.manifestDigest,
        manifest: contents.manifest,
        contents,
      }),
    },
    probe: { missing: async () => [] },
    loader: loader(),
    onEvent: () => {},
    onReport: (r) => {
      reports = r;
    },
  });
  const x = veth.outerAddr.split('.').map(Number);
  const slash16Of = (b: number) => {
    const bytes = Buffer.alloc(Math.floor(b / 8) + 1);
    bytes[Math.floor(b / 8)] = 1 << (b % 8);
    return bytes.toString('hex');
  };

  // 1. The blocklist holds the pinging source: its pings drop; the prefilter has its /16 and is maintained.
  want({
    blocklist_v4: [prefix(veth.outerAddr, 32), prefix('203.0.113.0', 24)],
    blocklist_v6: [prefix('2001:db8::', 32)],
  });
  await agent.reconcile();
  assert.equal(reports[0]?.status, 'ATTACHED', JSON.stringify(reports[0]?.lastError));
  assert.deepEqual(reports[0]?.maps, { blocklist_v4: 2, blocklist_v6: 1 });
  const id = programId();
  assert.equal(veth.ping(3).received, 0, 'a blocked source is dropped');
  let state = pinnedState();
  assert.deepEqual(state.trie, [`${veth.outerAddr}/32`, '203.0.113.0/24']);
  assert.deepEqual(
    state.slash16,
    new Map([
      [198, slash16Of(x[1] ?? 0)],
      [203, slash16Of(0)],
      [256, '01'],
    ]),
  );

  // 2. Entries-only change: the source leaves the list; no reload, the same program runs, pings pass.
  want({ blocklist_v4: [prefix('203.0.113.0', 24), prefix('10.0.0.0', 8)] });
  await agent.reconcile();
  assert.equal(reports[0]?.status, 'ATTACHED', JSON.stringify(reports[0]?.lastError));
  assert.deepEqual(reports[0]?.maps, { blocklist_v4: 2, blocklist_v6: 0 });
  assert.equal(programId(), id, 'no reload');
  assert.equal(veth.ping(3).received, 3, 'unblocked');
  state = pinnedState();
  assert.deepEqual(state.trie, ['10.0.0.0/8', '203.0.113.0/24']);
  assert.deepEqual(
    state.slash16,
    new Map([
      [203, slash16Of(0)],
      [256, '0101'],
    ]),
    'a /8 makes every packet walk the trie',
  );

  // 3. Bad entries, caught by the manifest's layout and by the kernel map's shape: nothing changes.
  const before = pinnedState();
  want({ blocklist_v4: [prefix(veth.outerAddr, 32), prefix('198.19.1', 24)] });
  await agent.reconcile();
  assert.equal(reports[0]?.status, 'ROLLED_BACK');
  assert.equal(reports[0]?.lastError?.code, 'INVALID_VALUE');
  assert.match(
    reports[0]?.lastError?.message ?? '',
    /maps\.blocklist_v4\[1\]\.key\.addr: expected a dotted IPv4 address/,
  );
  want({ blocklist_v4: [prefix(veth.outerAddr, 32), prefix('198.19.0.0', 33)] });
  await agent.reconcile();
  assert.equal(reports[0]?.lastError?.code, 'MAP_ENTRY_INVALID');
  assert.match(
    reports[0]?.lastError?.message ?? '',
    /maps\.blocklist_v4\[1\]\.key: prefix length 33 is longer than the 32-bit address/,
  );
  assert.deepEqual(pinnedState(), before, 'the running maps are untouched');
  assert.deepEqual(reports[0]?.maps, { blocklist_v4: 2, blocklist_v6: 0 });
  assert.equal(programId(), id);
  assert.equal(veth.ping(3).received, 3);

  // 4. A new agent process adopts the deployment and its entries: nothing to write, still the same program.
  const restarted = loader();
  const adopted = await restarted.adopt();
  assert.deepEqual(adopted[0]?.mapEntries, { blocklist_v4: 2, blocklist_v6: 0 });
  assert.equal(programId(), id, 'adopted: the same program still on the interface');
  await restarted.detach('fw');
  assert.equal(attachedProgram(), undefined, 'detached from the interface');
  assert.equal(veth.ping(2).received, 2);
});
