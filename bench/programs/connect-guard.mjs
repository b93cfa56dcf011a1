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
    return coll.program('guard_connect4');
  };
  const variants = [
    { key: 'none', name: 'no program (baseline)', prog: null },
    { key: 'unguarded', name: 'connect-guard, app not guarded', prog: await attachGuard(false) },
    {
      key: 'allowed',
      name: 'connect-guard, guarded app, allowed by a /24 rule',
      prog: await attachGuard(true),
    },
  ];
  const samples = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const link = v.prog ? await v.prog.attach({ kind: 'cgroup', path: cgroup }) : null;
      try {
        const r = spawnSync(
          'nsenter',
          [`--net=/run/netns/${netns}`, loop, cgroup, '198.18.1.1', '9', String(CONNECTS)],
          {
            encoding: 'utf8',
          },
        );
        if (r.status !== 0) throw new Error(`connect loop failed: ${r.stderr}`);
        samples[v.key].push(Number(r.stdout.trim()));
      } finally {
        link?.close();
      }
    }
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
