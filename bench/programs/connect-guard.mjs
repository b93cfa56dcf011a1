// ns per connect() with connect-guard attached (app unguarded; guarded and allowed by a rule) next to no program,
// measured by a C loop of UDP connect()s from a test cgroup in a netns, rounds interleaved.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../result-file.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const { buildProgram } = await import(join(root, 'sdk/dist/compile/build-program.js'));
const { findToolchain } = await import(join(root, 'sdk/dist/compile/toolchain.js'));
const { runTool } = await import(join(root, 'sdk/dist/compile/run-tool.js'));
const { isGplCompatible, parseManifest } = await import(join(root, 'sdk/dist/manifest/index.js'));
const { loadCollection } = await import(join(root, 'sdk/dist/bpf/index.js'));

const work = mkdtempSync(join(tmpdir(), 'bpfleet-connect-guard-'));
const netns = `bf-bench-${process.pid}-cg`;
const cgroup = join('/sys/fs/cgroup/unified', `bpfleet-bench-${randomBytes(6).toString('hex')}`);
const collections = [];
try {
  const dir = join(root, 'bpf-programs/connect-guard');
  const manifest = parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  const built = await buildProgram(runTool, await findToolchain(runTool), {
    dir,
    manifest,
    isGplCompatible,
    arches: [arch],
    buildDir: join(work, 'build'),
  });
  const object = new Uint8Array(readFileSync(built.objects[0].path));
  const loop = join(work, 'udp-connect-loop');
  execFileSync('gcc', ['-O2', '-o', loop, join(here, 'udp-connect-loop.c')]);
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', netns, 'addr', 'add', '198.18.1.1/32', 'dev', 'lo']);
  mkdirSync(cgroup);
  const id = Buffer.alloc(8);
  id.writeBigUInt64LE(BigInt(statSync(cgroup).ino));

  const attachGuard = async (guarded) => {
    const coll = await loadCollection(object);
    collections.push(coll);
    if (guarded) {
      coll.map('guarded_apps').update(id, Buffer.from([7, 0, 0, 0]));
      const rule = Buffer.alloc(24);
      rule.writeUInt32LE(32 + 96 + 24, 0);
      rule.writeUInt32LE(7, 4);
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 1, 0]).copy(rule, 8);
      coll.map('allow_rules').update(rule, Buffer.from([0, 0]));
    }
    return { prog: coll.program('guard_connect4'), connects: coll.map('connects') };
  };
  /** The connect loop in the test cgroup, in the netns; returns its ns per connect or throws with its stderr. */
  const connectLoop = (host, n) => {
    const r = spawnSync('nsenter', [`--net=/run/netns/${netns}`, loop, cgroup, host, '9', String(n)], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`connect loop to ${host} failed: ${r.stderr.trim()}`);
    return Number(r.stdout.trim());
  };
  /** [allowed, denied] that the program counted for the test cgroup, summed over the CPUs. */
  const counted = (connects) =>
    (connects.lookupPerCpu(id) ?? []).reduce(
      ([a, d], v) => [a + Buffer.from(v).readBigUInt64LE(0), d + Buffer.from(v).readBigUInt64LE(8)],
      [0n, 0n],
    );
  const variants = [
    { key: 'none', name: 'no program (baseline)', prog: null },
    { key: 'unguarded', name: 'connect-guard, app not guarded', ...(await attachGuard(false)) },
    {
      key: 'allowed',
      name: 'connect-guard, guarded app, allowed by a /24 rule',
      ...(await attachGuard(true)),
    },
  ];
  const samples = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const link = v.prog ? await v.prog.attach({ kind: 'cgroup', path: cgroup }) : null;
      try {
        samples[v.key].push(connectLoop('198.18.1.1', CONNECTS));
      } finally {
        link?.close();
      }
    }
  }
  // The kernel as witness: every timed connect() went through the program, on the path the figure names.
  for (const v of variants.filter((v) => v.prog)) {
    const [allowed, denied] = counted(v.connects);
    if (allowed !== BigInt(ROUNDS * CONNECTS) || denied !== 0n)
      throw new Error(
        `${v.name}: connects counted ${allowed} allowed, ${denied} denied; expected ${ROUNDS * CONNECTS} allowed: the measured path did not run`,
      );
  }
  // The guarded variant took the rule path, not the unguarded one: outside its /24 the same app is refused.
  const guarded = variants.find((v) => v.key === 'allowed');
  const link = await guarded.prog.attach({ kind: 'cgroup', path: cgroup });
  try {
    let refused = false;
    try {
      connectLoop('198.18.2.1', 1);
    } catch (err) {
      refused = /not permitted/i.test(String(err.message));
      if (!refused) throw err;
    }
    if (!refused || counted(guarded.connects)[1] !== 1n)
      throw new Error(`${guarded.name}: a connect outside the rule was not refused: the app is not guarded`);
  } finally {
    link.close();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(samples.none);
  // The agreed figure shape; the baseline is connect() with no program, measured in the same run.
  const baseName = variants.find((v) => v.key === 'none')?.name ?? 'no program (baseline)';
  const figures = variants.map((v) => {
    const value = median(samples[v.key]);
    const isBase = v.key === 'none';
    return {
      name: v.name,
      value,
      unit: 'ns/connect',
      baseline: isBase ? null : { name: baseName, value: base },
      ratio: isBase ? null : Number((value / base).toFixed(2)),
      goal: null,
      met: null,
      overBaseline: Number((value - base).toFixed(1)),
    };
  });
  const result = {
    benchmark: 'connect-guard',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, kernel: release(), node: process.version },
    settings: {
      connects: CONNECTS,
      rounds: ROUNDS,
      statistic: 'median of rounds',
      socket: 'UDP connect() in a loop',
    },
    figures,
  };
  for (const f of figures)
    console.log(`${f.name.padEnd(52)}${String(f.value).padEnd(10)}+${f.overBaseline} ns`);
  console.log(`wrote ${writeResult('connect-guard', result)}`);
} finally {
  for (const coll of collections) coll.close();
  spawnSync('ip', ['netns', 'del', netns]);
  try {
    rmdirSync(cgroup);
  } catch {}
  rmSync(work, { recursive: true, force: true });
}
