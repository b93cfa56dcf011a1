// Reliability: the real bpfleet-edge on 127.0.0.1 under 200 concurrent keep-alive clients for 5 s (60 s in the
// long suite) reading the index, versions, bundles and blobs (whole and by Range): zero errors, every body
// checked, and the latency percentiles reported.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { after, before, test } from 'node:test';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { reliabilityRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { generateKeyPair } from '@bpfleet/sdk/trust';
import { type EdgeRegistry, startEdgeRegistry } from '../fixtures/edge-registry.js';
import { moveSigned } from '../fixtures/signed-channel.js';
import {
  countManifest,
  type SignedPackage,
  signedPackage,
  standInObject,
} from '../fixtures/test-packages.js';

const CLIENTS = 200;
const SECONDS = reliabilityRuns(5, 60);

let registry: EdgeRegistry;
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
const packages: SignedPackage[] = [];

before(async () => {
  registry = await startEdgeRegistry('127.0.0.1');
  const publisher = generateKeyPair();
  await registry.admin.createNamespace('acme');
  await registry.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await registry.admin.createToken('acme', 'load');
  const client = createRegistryClient({ url: registry.url, token });
  // Three versions with objects of 4 KiB, 64 KiB and 1 MiB (incompressible): small, medium and large downloads.
  for (const [i, size] of [4096, 65_536, 1024 * 1024].entries()) {
    const pkg = await signedPackage(countManifest(`1.${i}.0`, i), standInObject(size), publisher);
    await client.publish({
      namespace: 'acme',
      name: 'count',
      version: pkg.version,
      archive: pkg.archive,
      bundle: pkg.bundle,
    });
    packages.push(pkg);
  }
  await moveSigned(client, publisher, '1.0.0');
});
after(async () => {
  agent.destroy();
  await registry?.stop();
});

interface Outcome {
  status: number;
  body: Buffer;
  ms: number;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  const started = performance.now();
  const url = new URL(path, registry.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** One request of the mix, checked; returns its latency or throws what was wrong. */
async function oneRequest(n: number): Promise<{ kind: string; ms: number }> {
  const pkg = packages[n % packages.length] as SignedPackage;
  const kind = ['index', 'versions', 'bundle', 'blob', 'range'][n % 5] as string;
  const check = (ok: boolean, what: string, o: Outcome) => {
    if (!ok) throw new Error(`${kind}: ${what} (HTTP ${o.status}, ${o.body.subarray(0, 200).toString()})`);
  };
  if (kind === 'index') {
    const o = await get('/v1/index');
    check(o.status === 200 && JSON.parse(o.body.toString()).dsseEnvelope !== undefined, 'a signed index', o);
    return { kind, ms: o.ms };
  }
  if (kind === 'versions') {
    const o = await get('/v1/packages/acme/count/versions');
    check(o.status === 200 && o.body.includes(pkg.digest), 'the version list', o);
    return { kind, ms: o.ms };
  }
  if (kind === 'bundle') {
    const o = await get(`/v1/packages/acme/count/versions/${pkg.version}/bundle`);
    check(o.status === 200 && JSON.parse(o.body.toString()).dsseEnvelope !== undefined, 'the bundle', o);
    return { kind, ms: o.ms };
  }
  if (kind === 'blob') {
    const o = await get(`/v1/blobs/${pkg.digest}`);
    check(o.status === 200 && sha256(o.body) === pkg.digest, 'the exact blob', o);
    return { kind, ms: o.ms };
  }
  const start = n % pkg.archive.length;
  const o = await get(`/v1/blobs/${pkg.digest}`, { range: `bytes=${start}-` });
  check(o.status === 206 && o.body.equals(pkg.archive.subarray(start)), `bytes ${start}- exactly`, o);
  return { kind, ms: o.ms };
}

test(`${CLIENTS} concurrent clients for ${SECONDS} s: zero errors, p99 latency reported`, async (t) => {
  const latencies: number[] = [];
  const errors: string[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < deadline) {
        try {
          latencies.push((await oneRequest(n++)).ms);
        } catch (err) {
          errors.push(String(err));
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0).toFixed(1);
  t.diagnostic(
    `${CLIENTS} clients, ${SECONDS} s: ${latencies.length} requests (${(latencies.length / SECONDS).toFixed(0)}/s), ${errors.length} errors; latency ms p50 ${pct(50)} p90 ${pct(90)} p99 ${pct(99)} max ${pct(100)}`,
  );
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} errors`);
  assert.ok(latencies.length >= CLIENTS, 'every client completed requests');
});
