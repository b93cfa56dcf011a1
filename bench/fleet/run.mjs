// Fleet convergence benchmark: N simulated devices (bpfleet-agent simulate, separate processes) with real MQTT
// sessions to a real mosquitto (and to the edge's embedded aedes, for comparison), real downloads from the
// registry and real signature checks; time from `policy apply` to 50%, 99% and 100% of devices reported
// ATTACHED at the edge, with CPU and RSS of every process. Writes bench/results/fleet.json.
//
// What limits it (2 cores, Node 20): CPU, nothing else. Every simulated device does its own work — one MQTT
// message in, five out (four events and its report), three HTTP requests (index, blob, bundle), three ECDSA
// P-256 verifications (policy, index, package), a gunzip/untar and two fsync'd state writes — and the devices of a
// simulator move in lockstep on its event loop, so p50 ≈ p100 ≈ (CPU of all processes) / 2 cores. This bench
// prints it: cpu-per-device-* (all processes) and the CPU of the simulators, the edge and mosquitto apart; the
// aim (10,000 devices in 10 s on 2 cores) needs 2 ms. Where a simulator's CPU goes (V8 running Node's http client,
// streams and mqtt.js first, then JIT compilation, GC, signatures and the kernel's loopback TCP) comes from a
// profile of a run: BENCH_FLEET_PERF or BENCH_FLEET_CPU_PROF below; no share is quoted here because no command
// prints one. At the edge: three requests per device on the fast paths (no framework) and five messages per
// device stored one transaction per event-loop turn.
// Further gains need fewer requests per device (a protocol change: e.g. the bundle next to the index entry) or
// a leaner HTTP client; more cores scale it (the simulators and the edge are separate processes).
// BENCH_FLEET_PERF=DIR records perf samples of every process over the window; BENCH_FLEET_CPU_PROF=DIR writes
// V8 profiles of the simulators and the edge.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  issueSecret,
  mosquittoPasswordLine,
  renderMosquittoAcl,
  renderMosquittoConf,
} from '@bpfleet/registry';
import { FleetClient } from '@bpfleet/sdk';
import { packArchive, unpackArchive } from '@bpfleet/sdk/archive';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { writeBpfObject } from '@bpfleet/sdk/elf';
import { signPolicy } from '@bpfleet/sdk/policy';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { freePort, until } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, signPackage, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import { writeResult } from '../result-file.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = (process.env.BENCH_FLEET_SIZES ?? (QUICK ? '1000' : '1000,5000,10000')).split(',').map(Number);
const BROKERS = (process.env.BENCH_FLEET_BROKERS ?? 'mosquitto,embedded').split(',');
/** The embedded broker is the comparison: by default only at the smallest size, to keep the run short. */
const EMBEDDED_SIZES = (process.env.BENCH_FLEET_EMBEDDED_SIZES ?? String(SIZES[0])).split(',').map(Number);
/** Simulator processes: one per core, so the devices' CPU work is not confined to one event loop. */
const PROCESSES = Number(process.env.BENCH_FLEET_PROCESSES ?? cpus().length);
/** At most this many devices per process: each holds an MQTT socket and, while fetching, an HTTP socket. */
const MAX_PER_PROCESS = 5000;
const GOAL_DEVICES = 10_000;
const GOAL_SECONDS = 10;
const FLEET = 'bench';
const CONTROLLER = 'bpfleet-controller';
const arch = { x64: 'x86', arm64: 'arm64' }[process.arch] ?? process.arch;

const children = new Set();
function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.tail = '';
  const keep = (d) => {
    child.tail = (child.tail + d).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => children.delete(child));
  return child;
}
async function stop(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, signal);
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
function waitFor(child, pattern, what, ms = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: not ready after ${ms} ms:\n${child.tail}`)),
      ms,
    );
    const check = () => {
      if (pattern.test(child.tail)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${child.tail}`));
    });
  });
}

/** CPU seconds (user+system) and resident memory of a process, from /proc. */
async function usage(pid) {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return {
    cpu: (Number(stat[11]) + Number(stat[12])) / 100,
    rssMb: kb('VmRSS') / 1024,
    hwmMb: kb('VmHWM') / 1024,
  };
}

/** One run: broker + edge + simulators for `n` devices; returns convergence times and process usage. */
async function runOnce(brokerKind, n) {
  const work = await mkdtemp(join(tmpdir(), 'bpfleet-bench-fleet-'));
  // Device state lives in memory: on real hardware every device has its own flash, here 10,000 of them would
  // share one disk's fsync queue, which is not what this benchmark is about.
  const devicesDir = await mkdtemp(join('/dev/shm', 'bpfleet-bench-devices-'));
  const procs = {};
  try {
    const operator = generateKeyPair();
    const publisher = generateKeyPair();
    const keys = await writeKeyPair(join(work, 'keys'), 'operator', operator);
    const httpPort = await freePort();
    const brokerPort = await freePort();
    const adminToken = `bpa_${randomBytes(24).toString('hex')}`;
    const controller = issueSecret();
    let mosquitto;
    const confDir = join(work, 'mosquitto');
    const writeMosquittoFiles = async (devices) => {
      const identities = [
        { role: 'controller', fleet: FLEET, name: CONTROLLER },
        ...devices.map(([id, , groups]) => ({ role: 'device', fleet: FLEET, deviceId: id, groups })),
      ];
      await writeFile(join(confDir, 'acl'), renderMosquittoAcl(FLEET, identities));
      const lines = [
        mosquittoPasswordLine(CONTROLLER, controller.secret),
        ...devices.map(([id, secret]) => mosquittoPasswordLine(id, secret)),
      ];
      await writeFile(join(confDir, 'passwd'), `${lines.join('\n')}\n`, { mode: 0o600 });
    };
    if (brokerKind === 'mosquitto') {
      await mkdir(confDir, { recursive: true });
      await writeMosquittoFiles([]);
      const conf = join(confDir, 'mosquitto.conf');
      await writeFile(
        conf,
        `${renderMosquittoConf({
          port: brokerPort,
          host: '127.0.0.1',
          aclFile: join(confDir, 'acl'),
          passwordFile: join(confDir, 'passwd'),
          user: userInfo().username,
        })}`,
      );
      mosquitto = start('mosquitto', ['-c', conf]);
      procs.mosquitto = mosquitto;
      await sleep(300);
      if (mosquitto.exitCode !== null) throw new Error(`mosquitto exited: ${mosquitto.tail}`);
    }
    const edge = start(
      process.execPath,
      [
        ...(process.env.BENCH_FLEET_PERF ? ['--perf-basic-prof-only-functions'] : []),
        ...(process.env.BENCH_FLEET_CPU_PROF
          ? [
              '--cpu-prof',
              '--cpu-prof-dir',
              process.env.BENCH_FLEET_CPU_PROF,
              '--cpu-prof-name',
              'edge.cpuprofile',
            ]
          : []),
        join(root, 'registry/dist/main.js'),
        '--data-dir',
        join(work, 'edge'),
        '--port',
        String(httpPort),
        '--fleet',
        FLEET,
        '--operator-key',
        keys.publicKeyPath,
        ...(brokerKind === 'mosquitto'
          ? ['--broker', `mqtt://127.0.0.1:${brokerPort}`, '--broker-username', CONTROLLER]
          : ['--broker-port', String(brokerPort)]),
      ],
      {
        env: {
          ...process.env,
          BPFLEET_EDGE_ADMIN_TOKEN: adminToken,
          BPFLEET_EDGE_BROKER_PASSWORD: controller.secret,
        },
      },
    );
    procs.edge = edge;
    await waitFor(edge, /listening on http:\/\//, 'bpfleet-edge');
    const url = `http://127.0.0.1:${httpPort}`;
    const admin = createRegistryClient({ url, token: adminToken });
    const fleet = new FleetClient(admin);

    // A real signed package in the registry.
    await admin.createNamespace('acme');
    await admin.addPublisherKey('acme', publisher.publicKeyPem);
    const manifest = {
      name: 'acme/count',
      version: '1.0.0',
      license: 'GPL',
      programs: [{ name: 'count_pings' }],
      requires: { arches: [arch], btf: true, programTypes: ['xdp'] },
    };
    const archive = await packArchive([
      { path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
      // Simulated devices never load it; the edge checks its programs against the manifest.
      {
        path: `bpf/${arch}/count.bpf.o`,
        data: writeBpfObject([{ name: 'count_pings', section: 'xdp' }], { padding: randomBytes(16 * 1024) }),
      },
    ]);
    const { manifestDigest } = await unpackArchive(archive);
    const bundle = await signPackage(
      { name: 'acme/count', version: '1.0.0', digest: sha256Digest(archive), manifestDigest },
      toSigningKey(publisher.privateKeyPem),
    );
    await admin.publish({ namespace: 'acme', name: 'count', version: '1.0.0', archive, bundle });

    // Devices registered through the fleet API, each with the broker secret the edge issues.
    const ids = Array.from({ length: n }, (_, i) => `dev-${i}`);
    const credentials = {};
    for (let i = 0; i < ids.length; i += 64) {
      await Promise.all(
        ids.slice(i, i + 64).map(async (id) => {
          credentials[id] = (await fleet.registerDevice(id, ['all'])).broker.password;
        }),
      );
    }
    if (mosquitto) {
      // mosquitto reads its password and ACL files at start and on SIGHUP.
      await writeMosquittoFiles(ids.map((id) => [id, credentials[id], ['all']]));
      process.kill(mosquitto.pid, 'SIGHUP');
      await sleep(1000);
    }
    const credsFile = join(work, 'credentials.json');
    await writeFile(credsFile, JSON.stringify(credentials));
    const edgeKey = await fleet.edgeKey();
    const registryKey = await admin.getRegistryKey();
    const key = (k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem });
    const base = join(work, 'base.json');
    await writeFile(
      base,
      JSON.stringify({
        fleet: FLEET,
        broker: { url: `mqtt://127.0.0.1:${brokerPort}`, keepaliveSeconds: 300 },
        registry: { url },
        trust: {
          operatorKeys: [key(operator), key(edgeKey)],
          registryKeys: [key(registryKey)],
          publishers: { acme: [key(publisher)] },
        },
        groups: ['all'],
        allow: { interfaces: ['wan0'] },
        // No periodic telemetry in the window. The periodic pass keeps the agent's default (60 s): a device that
        // hit a passing error (the edge busy) retries on its own, with backoff, within seconds.
        telemetryIntervalSeconds: 3600,
      }),
    );
    const sims = [];
    const perProcess = Math.min(MAX_PER_PROCESS, Math.ceil(n / PROCESSES));
    for (let first = 0; first < n; first += perProcess) {
      const count = Math.min(perProcess, n - first);
      sims.push(
        // The simulators stand in for remote devices, which never take the edge's or the broker's CPU: they run at
        // a lower priority so the system under test is not starved by its own load generator (the totals are
        // the same; under a busy machine the edge otherwise falls behind and devices time out).
        start(
          'nice',
          [
            '-n',
            '10',
            process.execPath,
            '--max-old-space-size=4096',
            ...(process.env.BENCH_FLEET_PERF ? ['--perf-basic-prof-only-functions'] : []),
            ...(process.env.BENCH_FLEET_CPU_PROF
              ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_FLEET_CPU_PROF]
              : []),
            join(root, 'agent/dist/main.js'),
            'simulate',
            '--devices',
            String(count),
            '--first',
            String(first),
            '--prefix',
            'dev-',
            '--config',
            base,
            '--credentials',
            credsFile,
            '--data-dir',
            devicesDir,
          ],
          { env: { ...process.env, BPFLEET_BROKER_PASSWORD: '' } },
        ),
      );
    }
    procs.sims = sims;
    await Promise.all(sims.map((s, i) => waitFor(s, /"simulating"/, `simulator ${i}`, 300_000)));
    // Read the edge's own database (read-only) rather than ask its API, so watching does not load the edge.
    const db = new Database(join(work, 'edge', 'fleet.db'), { readonly: true, fileMustExist: true });
    const online = db.prepare("SELECT count(*) AS c FROM fleet_devices WHERE presence = 'online'");
    await until(() => online.get().c === n, `${n} devices online`, 300_000, undefined, 200).catch((err) => {
      throw new Error(
        `${err.message} (${online.get().c} are); simulators said:\n${sims.map((s) => s.tail.slice(-1500)).join('\n')}`,
      );
    });
    await sleep(1000);

    const before = {};
    const pids = { edge: edge.pid, ...(mosquitto && { mosquitto: mosquitto.pid }) };
    sims.forEach((s, i) => {
      pids[`sim${i}`] = s.pid;
    });
    for (const [name, pid] of Object.entries(pids)) before[name] = await usage(pid);
    // BENCH_FLEET_PERF=DIR: perf samples (CPU time, not wall time) of every process, from the apply to convergence.
    const perf = process.env.BENCH_FLEET_PERF
      ? spawn(
          'perf',
          [
            'record',
            '-F',
            '499',
            '-g',
            '-o',
            join(process.env.BENCH_FLEET_PERF, `perf-${brokerKind}-${n}.data`),
            '-p',
            Object.values(pids).join(','),
          ],
          { stdio: 'ignore' },
        )
      : undefined;
    if (perf) await sleep(500);

    const policy = await signPolicy(
      {
        apiVersion: 'bpfleet/v1',
        kind: 'Policy',
        serial: 1,
        expires: '2099-01-01T00:00:00Z',
        target: { group: 'all' },
        fleet: FLEET,
        programs: [{ id: 'count', package: 'acme/count', version: '1.0.0', attach: { interface: 'wan0' } }],
      },
      toSigningKey(operator.privateKeyPem),
    );
    const load = loadavg()[0];
    const t0 = Date.now();
    await fleet.applyPolicy(policy);
    // last_seen is stamped when the edge records a report; with telemetry off it is the ATTACHED report's time.
    const attached = db.prepare(
      `SELECT d.last_seen AS at FROM fleet_devices d, json_each(d.reported, '$.programs') p
       WHERE json_extract(p.value, '$.status') = 'ATTACHED' AND json_extract(p.value, '$.version') = '1.0.0'`,
    );
    // The watch itself must stay cheap: a JSON scan of every device's report each 200 ms took a third of a core
    // at 10,000 devices, and its long reads kept the edge's WAL from being checkpointed. The exact check (with
    // json_each) runs once, at the end.
    const count = db.prepare(
      `SELECT count(*) AS c FROM fleet_devices WHERE reported LIKE '%"status":"ATTACHED"%'`,
    );
    let converged = true;
    const wait = Number(process.env.BENCH_FLEET_WAIT_S ?? 0) * 1000 || Math.max(180_000, n * 60);
    await until(() => count.get().c >= n, `${n} devices ATTACHED`, wait, undefined, 500).catch((err) => {
      process.stderr.write(`  ${err.message}\n`);
      converged = false;
    });
    const after = {};
    for (const [name, pid] of Object.entries(pids)) after[name] = await usage(pid);
    if (perf) {
      const done = new Promise((r) => perf.once('exit', r));
      perf.kill('SIGINT');
      await done;
      process.stderr.write(`  perf: ${JSON.stringify(pids)}\n`);
    }
    const times = attached
      .all()
      .map((r) => (Date.parse(r.at) - t0) / 1000)
      .sort((a, b) => a - b);
    // Where the time goes: when the edge saw each stage of the devices' work, as quantiles since the apply.
    const stages = db
      .prepare(
        `SELECT json_extract(event, '$.state') AS state, received_at AS at FROM fleet_events WHERE received_at >= ?`,
      )
      .all(new Date(t0).toISOString());
    const byState = new Map();
    for (const e of stages)
      byState.set(e.state, [...(byState.get(e.state) ?? []), (Date.parse(e.at) - t0) / 1000]);
    for (const [state, ts] of byState) {
      ts.sort((a, b) => a - b);
      const q = (f) => ts[Math.min(ts.length - 1, Math.floor(f * ts.length))].toFixed(2);
      process.stderr.write(
        `  ${state}: ${ts.length} events, first ${q(0)} s, p50 ${q(0.5)} s, last ${q(1)} s\n`,
      );
    }
    // Why devices failed on the way (and retried): the most common reasons.
    const reasons = db
      .prepare(
        `SELECT json_extract(event, '$.reason.code') || ': ' || substr(json_extract(event, '$.reason.message'), 1, 120) AS r,
           count(*) AS c FROM fleet_events WHERE received_at >= ? AND json_extract(event, '$.reason') IS NOT NULL
         GROUP BY r ORDER BY c DESC LIMIT 5`,
      )
      .all(new Date(t0).toISOString());
    for (const { r, c } of reasons) process.stderr.write(`  ${c} × ${r}\n`);
    if (process.env.BENCH_FLEET_DEBUG)
      for (const p of [...sims, edge, mosquitto].filter(Boolean)) process.stderr.write(`${p.tail}\n`);
    db.close();
    const at = (fraction) => {
      const k = Math.ceil(fraction * n);
      return k <= times.length ? times[k - 1] : Number.NaN;
    };
    const proc = {};
    for (const name of Object.keys(pids)) {
      proc[name] = { cpu: after[name].cpu - before[name].cpu, rssMb: after[name].hwmMb };
    }
    await Promise.all(sims.map((s) => stop(s)));
    await stop(edge);
    await stop(mosquitto);
    return {
      n,
      load,
      brokerKind,
      converged,
      attached: times.length,
      p50: at(0.5),
      p99: at(0.99),
      p100: at(1),
      proc,
    };
  } finally {
    for (const c of [...children]) await stop(c, 'SIGKILL');
    await rm(work, { recursive: true, force: true });
    await rm(devicesDir, { recursive: true, force: true });
  }
}

const figures = [];
const unconverged = [];
const fig = (name, value, unit, goal = null, met = null) =>
  figures.push({ name, value, unit, baseline: null, ratio: null, goal, met });
const rows = [
  [
    'broker',
    'devices',
    'load',
    'p50 s',
    'p99 s',
    'p100 s',
    'edge cpu s',
    'edge MB',
    'broker cpu s',
    'broker MB',
    'sims cpu s',
    'sim MB (max)',
  ],
];
try {
  for (const n of SIZES) {
    for (const brokerKind of BROKERS) {
      if (brokerKind === 'embedded' && !EMBEDDED_SIZES.includes(n)) continue;
      process.stderr.write(`fleet: ${n} devices, ${brokerKind} broker\n`);
      const r = await runOnce(brokerKind, n);
      const tag = `${brokerKind}-${n}`;
      const sims = Object.entries(r.proc).filter(([k]) => k.startsWith('sim'));
      const broker = brokerKind === 'mosquitto' ? r.proc.mosquitto : null;
      const isGoal = n === GOAL_DEVICES && brokerKind === 'mosquitto';
      fig(`converge-${tag}-p50`, r.p50, 's');
      fig(`converge-${tag}-p99`, r.p99, 's');
      fig(
        `converge-${tag}-p100`,
        r.converged ? r.p100 : Number.NaN,
        's',
        isGoal ? `<= ${GOAL_SECONDS} s` : null,
        isGoal ? r.converged && r.p100 <= GOAL_SECONDS : null,
      );
      fig(`converged-${tag}`, r.attached / n, 'fraction');
      fig(`edge-cpu-${tag}`, r.proc.edge.cpu, 'cpu-s');
      fig(`edge-rss-${tag}`, r.proc.edge.rssMb, 'MB');
      if (broker) {
        fig(`mosquitto-cpu-${tag}`, broker.cpu, 'cpu-s');
        fig(`mosquitto-rss-${tag}`, broker.rssMb, 'MB');
      }
      fig(
        `sim-cpu-${tag}`,
        sims.reduce((s, [, p]) => s + p.cpu, 0),
        'cpu-s',
      );
      fig(`sim-rss-${tag}`, Math.max(...sims.map(([, p]) => p.rssMb)), 'MB');
      // All processes' CPU per device, and what it means on this machine's cores if nothing else ran on them.
      const cpu = Object.values(r.proc).reduce((s, p) => s + p.cpu, 0);
      fig(`cpu-per-device-${tag}`, (cpu / n) * 1000, 'cpu-ms');
      fig(`cpu-bound-converge-${tag}`, cpu / cpus().length, 's');
      fig(`load-before-${tag}`, r.load, 'loadavg');
      rows.push([
        brokerKind,
        String(n),
        r.load.toFixed(1),
        ...[r.p50, r.p99, r.converged ? r.p100 : Number.NaN].map((v) => v.toFixed(2)),
        r.proc.edge.cpu.toFixed(1),
        r.proc.edge.rssMb.toFixed(0),
        broker ? broker.cpu.toFixed(1) : '(in edge)',
        broker ? broker.rssMb.toFixed(0) : '-',
        sims.reduce((s, [, p]) => s + p.cpu, 0).toFixed(1),
        Math.max(...sims.map(([, p]) => p.rssMb)).toFixed(0),
      ]);
      if (!r.converged) {
        process.stderr.write(`fleet: only ${r.attached} of ${n} converged\n`);
        unconverged.push(`${tag} (${r.attached} of ${n})`);
      }
    }
  }
} finally {
  for (const c of [...children]) await stop(c, 'SIGKILL');
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
const result = {
  benchmark: 'fleet',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, kernel: release(), node: process.version },
  figures,
};
process.stdout.write(`wrote ${writeResult('fleet', result, { ok: unconverged.length === 0 })}\n`);
// p50/p99 of a run that did not converge cover only the devices that attached: the run failed, say so.
if (unconverged.length > 0) {
  process.stderr.write(`fleet: did not converge: ${unconverged.join(', ')}\n`);
  process.exit(1);
}
