// Issue #14 item 1 end to end: a signed package whose object hides an unlisted raw_tp/sys_enter program beside
// its listed XDP program. The real edge refuses to publish it; put into the edge's catalog the way an edge without
// that check would have served it, the real agent refuses it before load with PROGRAM_UNDECLARED, reported to the
// edge; bpftool, sampled all along, never sees either program. Listed as `load: false`, it deploys: the XDP
// program runs on wan0 and the raw_tp one is still never loaded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { testObjectArch as arch } from '@bpfleet/agent';
import { packArchive, unpackArchive } from '@bpfleet/sdk/archive';
import { RegistryError } from '@bpfleet/sdk/errors';
import type { Manifest } from '@bpfleet/sdk/manifest';
import Database from 'better-sqlite3';
import { xdpPrograms } from '../fixtures/kernel-state.js';
import type { SignedArchive } from '../quickstart/publishing.js';
import { type PublishedDevice, startPublishedDevice } from './published-device.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const OBJECT = readFileSync(join(ROOT, 'build', 'bpf', 'hidden_raw_tp.bpf.o'));
const PACKAGE = 'acme/hidden-h1c';

let device: PublishedDevice;

before(async () => {
  device = await startPublishedDevice({
    tag: 'h1c',
    block: 101,
    namespaces: ['acme'],
    allow: (net) => ({ interfaces: [net.wan], cgroups: [] }),
  });
});

after(async () => {
  await device?.close();
});

function manifest(version: string, programs: Manifest['programs']): Manifest {
  return {
    name: PACKAGE,
    version,
    license: 'GPL',
    programs,
    requires: { arches: [arch as Manifest['requires']['arches'][number]], programTypes: ['xdp'] },
  };
}

async function archive(m: Manifest): Promise<Buffer> {
  return packArchive([
    { path: 'manifest.json', data: Buffer.from(JSON.stringify(m)) },
    { path: `bpf/${arch}/hidden.bpf.o`, data: OBJECT },
  ]);
}

/** Names of this package's programs the kernel has loaded right now. */
function loadedNames(): string[] {
  const all = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{
    name?: string;
  }>;
  return all.flatMap((p) => (p.name === 'h1c_visible' || p.name === 'h1c_hidden' ? [p.name] : []));
}

/** Samples bpftool every 50 ms until stopped: every name of this package's programs it ever saw. */
function sampleLoaded(): { stop(): Promise<Set<string>> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const name of loadedNames()) seen.add(name);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/**
 * The version as an edge that never checked programs would hold it: blob by digest, catalog row, and the
 * catalog's change counter bumped so the running edge re-signs its index (as its own publish does).
 */
async function putInCatalog(pkg: SignedArchive): Promise<void> {
  const dataDir = device.edgeDataDir;
  const contents = await unpackArchive(pkg.archive);
  writeFileSync(join(dataDir, 'blobs', 'sha256', pkg.digest.slice('sha256:'.length)), pkg.archive);
  const db = new Database(join(dataDir, 'catalog.db'));
  try {
    db.transaction(() => {
      db.prepare(
        `INSERT INTO versions (namespace, name, version, digest, size, manifest_digest, manifest, bundle,
           description, license, published_at, yanked, yank_reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
      ).run(
        pkg.namespace,
        pkg.name,
        pkg.version,
        pkg.digest,
        pkg.archive.length,
        contents.manifestDigest,
        contents.manifestBytes.toString('utf8'),
        JSON.stringify(pkg.bundle),
        '',
        contents.manifest.license,
        new Date().toISOString(),
      );
      db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'changes'").run();
    })();
  } finally {
    db.close();
  }
}

test('the edge refuses to publish a package whose object hides an unlisted program', async () => {
  const hidden = await archive(manifest('1.0.0', [{ name: 'h1c_visible' }]));
  await assert.rejects(device.publish(hidden), (err: unknown) => {
    assert.ok(err instanceof RegistryError, String(err));
    assert.equal(err.code, 'PROGRAM_UNDECLARED');
    assert.match(err.message, /h1c_hidden/);
    return true;
  });
});

test('served by an edge that did not check, the agent refuses it before load: PROGRAM_UNDECLARED at the edge, nothing in the kernel', async () => {
  assert.deepEqual(loadedNames(), [], 'none of its programs loaded before the test');
  const signed = await device.sign(await archive(manifest('1.0.0', [{ name: 'h1c_visible' }])));
  await putInCatalog(signed);
  const sampler = sampleLoaded();
  let seen: Set<string>;
  try {
    await device.apply([
      { id: 'h1c-hidden', package: PACKAGE, version: '1.0.0', attach: { interface: device.net.wan } },
    ]);
    const [program] = (await device.settled(['h1c-hidden'])).filter((p) => p.id === 'h1c-hidden');
    assert.equal(program?.status, 'FAILED', JSON.stringify(program));
    assert.equal(program?.lastError?.code, 'PROGRAM_UNDECLARED');
    assert.match(program?.lastError?.message ?? '', /h1c_hidden/);
  } finally {
    seen = await sampler.stop();
  }
  assert.deepEqual([...seen], [], 'bpftool never saw h1c_visible or h1c_hidden loaded');
  assert.deepEqual(xdpPrograms(device.net.deviceNs, device.net.wan), [], 'nothing on wan0');
});

test('listed with load: false, the package deploys: only the XDP program is ever loaded, and it runs on wan0', async () => {
  const declared = manifest('1.1.0', [
    { name: 'h1c_visible' },
    {
      name: 'h1c_hidden',
      load: false,
      description: 'counts every syscall; kept for debugging builds, never loaded by the fleet',
    },
  ]);
  await device.publish(await archive(declared));
  const sampler = sampleLoaded();
  let seen: Set<string>;
  try {
    await device.apply([
      { id: 'h1c-hidden', package: PACKAGE, version: '1.1.0', attach: { interface: device.net.wan } },
    ]);
    await device.settled(['h1c-hidden']);
    const until = Date.now() + 30_000;
    let program = (await device.reported()).find((p) => p.id === 'h1c-hidden');
    while (program?.version !== '1.1.0' || program.status !== 'ATTACHED') {
      if (Date.now() > until) assert.fail(`not attached: ${JSON.stringify(program)}`);
      await new Promise((r) => setTimeout(r, 200));
      program = (await device.reported()).find((p) => p.id === 'h1c-hidden');
    }
  } finally {
    seen = await sampler.stop();
  }
  assert.deepEqual([...seen], ['h1c_visible'], 'h1c_hidden was never loaded');
  const visible = JSON.parse(
    execFileSync('bpftool', ['-j', 'prog', 'show', 'name', 'h1c_visible'], { encoding: 'utf8' }),
  );
  const ids = (Array.isArray(visible) ? visible : [visible]).map((p: { id: number }) => p.id);
  assert.deepEqual(xdpPrograms(device.net.deviceNs, device.net.wan), ids, 'wan0 runs the listed program');
});
