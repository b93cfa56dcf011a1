// The edge's data directory by the real process: 0700 directories and 0600 files when it makes them (under a
// permissive umask), and tightened at start when an older edge or a restore left 0755/0644 behind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, it } from 'node:test';
import { RegistryClient } from '@bpfleet/sdk/registry-client';
import { type RunningEdge, startEdge } from './testing/edge-launcher.js';
import { buildSignedPackage } from './testing/signed-package.js';
import { createTestPublisher } from './testing/test-keys.js';

let root: string;
let dataDir: string;
const adminToken = `bpfa_${randomBytes(32).toString('base64url')}`;
const running = new Set<RunningEdge>();
const previousUmask = process.umask(0o022);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hbh-datadir-'));
  await chmod(root, 0o755);
  dataDir = join(root, 'edge');
});
after(async () => {
  for (const edge of running) await edge.stop();
  process.umask(previousUmask);
  await rm(root, { recursive: true, force: true });
});

async function start(): Promise<RunningEdge> {
  const edge = await startEdge(['--data-dir', dataDir, '--port', '0', '--broker-port', '0'], {
    BPFLEET_EDGE_ADMIN_TOKEN: adminToken,
  });
  running.add(edge);
  return edge;
}

async function stop(edge: RunningEdge): Promise<void> {
  await edge.stop();
  running.delete(edge);
}

/** Every path under `dir` (itself included) with its permission bits, symlinks skipped. */
async function modes(dir: string): Promise<Map<string, { mode: number; isDir: boolean }>> {
  const out = new Map<string, { mode: number; isDir: boolean }>();
  const walk = async (path: string) => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return;
    out.set(relative(dir, path) || '.', { mode: info.mode & 0o777, isDir: info.isDirectory() });
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
  return out;
}

const WANTED = ['catalog.db', 'catalog.db-wal', 'catalog.db-shm', 'fleet.db', 'fleet.db-wal', 'fleet.db-shm'];

it('makes every directory 0700 and every file 0600 itself, databases, -wal/-shm, keys and blobs', async () => {
  const edge = await start();
  const admin = new RegistryClient({ url: edge.url, token: adminToken });
  const publisher = createTestPublisher();
  await admin.createNamespace('acme');
  await admin.addPublisherKey('acme', publisher.pair.publicKeyPem);
  const { token } = await admin.createToken('acme');
  const pkg = await buildSignedPackage('acme/fw', '1.0.0', publisher.signing);
  await new RegistryClient({ url: edge.url, token }).publish({
    namespace: 'acme',
    name: 'fw',
    version: '1.0.0',
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
  const seen = await modes(dataDir);
  for (const name of [...WANTED, 'registry.key', 'registry.pub', 'edge-policy.key', 'blobs/sha256']) {
    assert.ok(seen.has(name), `${name} exists while the edge runs`);
  }
  assert.ok(
    [...seen.keys()].some((p) => p.startsWith('blobs/sha256/')),
    'a blob was stored',
  );
  for (const [path, { mode, isDir }] of seen) {
    assert.equal(mode.toString(8), isDir ? '700' : '600', path);
  }
  await stop(edge);
});

it('tightens a 0755 data directory with 0644 databases, -wal/-shm, keys and blob folders at start', async () => {
  // What an edge before this change, a umask of 022 or a restore from backup leaves (keys included).
  for (const [path, { isDir }] of await modes(dataDir)) {
    await chmod(join(dataDir, path), isDir ? 0o755 : 0o644);
  }
  assert.equal(((await lstat(join(dataDir, 'catalog.db'))).mode & 0o777).toString(8), '644');
  const edge = await start();
  const seen = await modes(dataDir);
  for (const name of WANTED) assert.ok(seen.has(name), `${name} exists while the edge runs`);
  for (const [path, { mode, isDir }] of seen) {
    const parts = path.split('/');
    if (isDir) assert.equal(mode.toString(8), '700', path);
    // A blob file sits three levels down: its 0700 folders close it (blobs are not walked at every start).
    else if (parts.length <= 2) assert.equal(mode.toString(8), '600', path);
    else assert.equal(seen.get(parts.slice(0, -1).join('/'))?.mode.toString(8), '700', path);
  }
  await stop(edge);
});
