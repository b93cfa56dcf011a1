// Registry benchmark: package downloads/s at 64 keep-alive connections against nginx serving the same file in
// the same run, plus publish latency. Prints the figures and writes bench/results/registry.json.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packArchive } from '@bpfleet/sdk/archive';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { writeBpfObject } from '@bpfleet/sdk/elf';
import { exampleManifestJson, manifestDigest } from '@bpfleet/sdk/manifest';
import { RegistryClient } from '@bpfleet/sdk/registry-client';
import { freePort } from '@bpfleet/sdk/test-kit';
import { generateKeyPair, signPackage, toSigningKey } from '@bpfleet/sdk/trust';
import { writeResult } from '../result-file.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PUBLISHES = Number(process.env.BENCH_PUBLISHES ?? 20);
const GOAL = 0.5;
const EDGE_WORKERS = process.env.BENCH_EDGE_WORKERS ?? '1';

const children = [];
const killChildren = () => {
  for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
};
// Last resort: whatever way this process ends (an uncaught error included), no child outlives it.
process.on('exit', killChildren);
function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.push(child);
  // A command that cannot start (nginx not installed) is an error of the benchmark, not an uncaught event.
  child.on('error', (err) => {
    child.startError = err;
  });
  return child;
}

function waitForLine(child, pattern, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after 15 s:\n${out}`)), 15_000);
    const onData = (chunk) => {
      out += chunk;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
  });
}

function load(options) {
  return new Promise((resolve, reject) => {
    const child = start(process.execPath, [join(root, 'bench/registry/load.mjs'), JSON.stringify(options)]);
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
    );
  });
}

async function makePackage(version, key) {
  const manifest = Buffer.from(exampleManifestJson({ name: 'bench/xdp-firewall', version }));
  // A real BPF object with the manifest's programs (the edge checks them), padded with ~48 KiB of random
  // bytes: the size of a compiled program, which gzip cannot shrink.
  const programs = JSON.parse(manifest).programs.map((p) => ({ name: p.name, section: 'xdp' }));
  const object = writeBpfObject(programs, { padding: randomBytes(48 * 1024) });
  const archive = await packArchive([
    { path: 'manifest.json', data: manifest },
    { path: 'bpf/any/xdp_firewall.bpf.o', data: object },
  ]);
  const bundle = await signPackage(
    {
      name: 'bench/xdp-firewall',
      version,
      digest: sha256Digest(archive),
      manifestDigest: manifestDigest(manifest),
    },
    key,
  );
  return { archive, bundle };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-bench-registry-'));
  try {
    const adminToken = `bpfa_${randomBytes(24).toString('base64url')}`;
    const edge = start(
      process.execPath,
      [
        join(root, 'registry/dist/main.js'),
        '--data-dir',
        join(dir, 'edge'),
        '--port',
        '0',
        '--broker-port',
        '0',
        '--workers',
        EDGE_WORKERS,
      ],
      {
        env: { ...process.env, BPFLEET_EDGE_ADMIN_TOKEN: adminToken },
      },
    );
    const [, edgeUrl] = await waitForLine(edge, /listening on (http:\/\/\S+)/, 'bpfleet-edge');
    const admin = new RegistryClient({ url: edgeUrl, token: adminToken });
    const pair = generateKeyPair();
    await admin.createNamespace('bench');
    await admin.addPublisherKey('bench', pair.publicKeyPem);
    const { token } = await admin.createToken('bench', 'bench');
    const publisher = new RegistryClient({ url: edgeUrl, token });
    const key = toSigningKey(pair.privateKeyPem);

    // Publish latency: sequential publishes of fresh versions (signing happens before the clock starts).
    const latencies = [];
    let first;
    for (let i = 0; i < PUBLISHES; i++) {
      const version = `1.0.${i}`;
      const pkg = await makePackage(version, key);
      first ??= pkg;
      const t0 = process.hrtime.bigint();
      await publisher.publish({
        namespace: 'bench',
        name: 'xdp-firewall',
        version,
        archive: pkg.archive,
        bundle: pkg.bundle,
      });
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    latencies.sort((a, b) => a - b);

    // nginx serving the very same bytes, from its own prefix on a loopback port.
    const www = join(dir, 'nginx', 'www');
    await mkdir(join(dir, 'nginx', 'logs'), { recursive: true });
    await mkdir(www, { recursive: true });
    await writeFile(join(www, 'package.tgz'), first.archive);
    // mkdtemp makes 0700 directories; nginx workers run as an unprivileged user and must read the file.
    for (const d of [dir, join(dir, 'nginx'), www]) await chmod(d, 0o755);
    await chmod(join(www, 'package.tgz'), 0o644);
    const nginxPort = await freePort();
    const conf = join(dir, 'nginx', 'nginx.conf');
    await writeFile(
      conf,
      `daemon off;
worker_processes auto;
pid ${join(dir, 'nginx', 'nginx.pid')};
error_log ${join(dir, 'nginx', 'logs', 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${join(dir, 'nginx', 'body')};
  proxy_temp_path ${join(dir, 'nginx', 'proxy')};
  fastcgi_temp_path ${join(dir, 'nginx', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'nginx', 'uwsgi')};
  scgi_temp_path ${join(dir, 'nginx', 'scgi')};
  types { application/gzip tgz; }
  server {
    listen 127.0.0.1:${nginxPort};
    root ${www};
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; }
  }
}
`,
    );
    const nginx = start('nginx', ['-p', join(dir, 'nginx'), '-c', conf]);
    for (let i = 0; i < 50; i++) {
      if (
        await fetch(`http://127.0.0.1:${nginxPort}/package.tgz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (nginx.startError) throw new Error(`nginx: ${nginx.startError.message} (install nginx)`);

    const digest = sha256Digest(first.archive);
    const edgePort = Number(new URL(edgeUrl).port);
    const targets = {
      registry: { port: edgePort, path: `/v1/blobs/${digest}` },
      nginx: { port: nginxPort, path: '/package.tgz' },
    };
    const results = { registry: [], nginx: [] };
    for (const t of Object.values(targets)) {
      await load({
        host: '127.0.0.1',
        ...t,
        connections: CONNECTIONS,
        durationMs: 1000,
        expectBytes: first.archive.length,
      });
    }
    // Alternate the two so neither always runs on a warmer (or busier) machine.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, t] of Object.entries(targets)) {
        const r = await load({
          host: '127.0.0.1',
          ...t,
          connections: CONNECTIONS,
          durationMs: SECONDS * 1000,
          expectBytes: first.archive.length,
        });
        if (r.errors > 0) throw new Error(`${name}: ${r.errors} bad responses`);
        results[name].push(r.perSecond);
      }
    }
    // The machine is shared: compare each registry slice with the nginx slice right after it, take the median.
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const ratios = results.registry.map((r, i) => r / results.nginx[i]);
    const registryRps = median(results.registry);
    const nginxRps = median(results.nginx);
    const ratio = median(ratios);
    for (let i = 0; i < ROUNDS; i++) {
      process.stdout.write(
        `round ${i + 1}: registry ${Math.round(results.registry[i])} req/s, nginx ${Math.round(results.nginx[i])} req/s, ratio ${ratios[i].toFixed(2)}\n`,
      );
    }
    nginx.kill('SIGTERM');
    edge.kill('SIGTERM');

    const round1 = (x) => Math.round(x * 10) / 10;
    const figures = [
      {
        name: `package downloads/s, ${CONNECTIONS} keep-alive connections, ${first.archive.length} B archive (bpfleet-edge --workers ${EDGE_WORKERS} vs nginx worker_processes auto)`,
        value: Math.round(registryRps),
        unit: 'req/s',
        baseline: {
          name: 'nginx (same file, same run; medians, ratio = median of paired rounds)',
          value: Math.round(nginxRps),
        },
        ratio: Math.round(ratio * 100) / 100,
        goal: GOAL,
        met: ratio >= GOAL,
      },
      {
        name: 'nginx downloads/s (baseline)',
        value: Math.round(nginxRps),
        unit: 'req/s',
        baseline: null,
        ratio: null,
        goal: null,
        met: null,
      },
      ...[50, 95].map((p) => ({
        name: `publish latency p${p} (${PUBLISHES} sequential publishes, upload + verify + commit)`,
        value: round1(percentile(latencies, p)),
        unit: 'ms',
        baseline: null,
        ratio: null,
        goal: null,
        met: null,
      })),
    ];
    const result = {
      benchmark: 'registry',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, kernel: release(), node: process.version },
      figures,
    };
    for (const f of figures) {
      const base = f.baseline
        ? `  vs ${f.baseline.name} ${f.baseline.value}: ratio ${f.ratio} (goal ≥ ${f.goal}: ${f.met ? 'met' : 'NOT met'})`
        : '';
      process.stdout.write(`${f.name}: ${f.value} ${f.unit}${base}\n`);
    }
    process.stdout.write(`wrote ${writeResult('registry', result)}\n`);
  } finally {
    killChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench registry: ${err.stack ?? err}\n`);
  process.exit(1);
});
