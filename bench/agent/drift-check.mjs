// The drift check alone, in-process: the reconcile loop's `checkKernel()` over the real BpfLoader holding 10 tcx
// deployments on a veth of this run's own (names tagged, no addresses, no traffic), CPU per check from
// process.cpuUsage, and what that is as a share of a core at the default 2 s interval.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const agentDist = (path) => import(join(root, 'agent', 'dist', path));
const { Agent } = await agentDist('agent.js');
const { BpfLoader } = await agentDist('deployments/bpf-loader.js');
const { DeploymentMetaStore } = await agentDist('deployments/deployment-meta.js');
const { arch, buildPackage } = await agentDist('testing/kernel-fixtures.js');
const { sha256Digest } = await import('@bpfleet/sdk/digest');

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** µs of CPU per `checkKernel()` and the share of a core at `intervalSeconds`, with `deployments` tcx programs. */
export async function driftCheckCost(
  tcxObject,
  { deployments = 10, checks = 500, intervalSeconds = 2 } = {},
) {
  const tag = `h6a${randomBytes(2).toString('hex')}`;
  const [inner, outer] = [`${tag}dci`, `${tag}dco`];
  const pinRoot = `/sys/fs/bpf/bpfleet-bench-${tag}`;
  const dataDir = mkdtempSync(join(tmpdir(), `bpfleet-bench-${tag}-`));
  execFileSync('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
  const loader = new BpfLoader({
    pinRoot,
    meta: new DeploymentMetaStore(join(dataDir, 'deployments')),
    arch,
    cgroupRoot: '/sys/fs/cgroup',
    allow: { interfaces: [inner], cgroups: [] },
    logger: quiet,
  });
  const ids = Array.from({ length: deployments }, (_, i) => `tcx-${i}`);
  try {
    execFileSync('ip', ['link', 'set', inner, 'up']);
    const manifest = {
      name: 'acme/tcx-count',
      version: '1.0.0',
      license: 'GPL',
      programs: [{ name: 'count_ingress' }],
      requires: { arches: [arch], btf: true },
    };
    const { archive, contents } = await buildPackage(manifest, tcxObject);
    const ref = {
      package: manifest.name,
      version: '1.0.0',
      digest: sha256Digest(archive),
      size: archive.length,
    };
    let reports = [];
    const agent = new Agent({
      logger: quiet,
      allow: { interfaces: [inner], cgroups: [] },
      policies: {
        ready: () => true,
        wanted: () =>
          ids.map((id) => ({
            id,
            package: ref.package,
            version: '1.0.0',
            attach: { interface: inner, direction: 'ingress' },
            source: 'bench',
          })),
      },
      index: { resolve: async () => ref },
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
      loader,
      onEvent: () => {},
      onReport: (r) => {
        reports = r;
      },
    });
    await agent.reconcile();
    const attached = reports.filter((r) => r.status === 'ATTACHED').length;
    if (attached !== deployments)
      throw new Error(`drift check bench: ${attached} of ${deployments} ATTACHED`);
    const drifts = (await loader.check()).filter((c) => c.drift);
    if (drifts.length > 0)
      throw new Error(`drift check bench: drift before measuring: ${JSON.stringify(drifts)}`);
    for (let i = 0; i < 20; i++) await agent.checkKernel();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < checks; i++) await agent.checkKernel();
    const wallUs = (performance.now() - t0) * 1000;
    const used = process.cpuUsage(cpu0);
    const cpuUs = (used.user + used.system) / checks;
    return {
      deployments,
      checks,
      cpuUsPerCheck: cpuUs,
      wallUsPerCheck: wallUs / checks,
      percentOfCore: (cpuUs / (intervalSeconds * 1e6)) * 100,
    };
  } finally {
    for (const id of ids) await loader.detach(id).catch(() => {});
    spawnSync('ip', ['link', 'del', inner]);
    rmSync(pinRoot, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// `node bench/agent/drift-check.mjs`: the figure alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { compileCount, compileTcxCount } = await import('./packages.mjs');
  await compileCount();
  const r = await driftCheckCost(await compileTcxCount());
  console.log(
    `drift check, ${r.deployments} tcx deployments: ${r.cpuUsPerCheck.toFixed(0)} µs CPU per check (${r.wallUsPerCheck.toFixed(0)} µs wall, ${r.checks} checks) = ${r.percentOfCore.toFixed(3)} % of a core every 2 s`,
  );
}
