// Attacks end to end against the real agent, for those docs/security.md did not yet cover that way: fast-forward
// serials (policy and index), mix-and-match, wrong arch, a gzip bomb, slow retrieval, a device publishing as
// another device, a policy from a non-operator key. Each is refused with the reason reported, nothing new
// attached and the running version untouched (the same program id still counting with its build).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { packArchive, unpackArchive } from '@bpfleet/sdk/archive';
import { sha256Digest } from '@bpfleet/sdk/digest';
import type { Manifest } from '@bpfleet/sdk/manifest';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { until } from '@bpfleet/sdk/test-kit';
import {
  generateKeyPair,
  INDEX_PAYLOAD_TYPE,
  signDocument,
  signPackage,
  toSigningKey,
} from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { linksRunning, pinsUnder, xdpPrograms } from '../fixtures/kernel-state.js';
import { arch, compileProgram, countManifest } from '../fixtures/test-packages.js';
import { type AttackerMirror, startAttackerMirror } from './attacker-mirror.js';
import {
  DEVICE,
  type DeviceHarness,
  FLEET,
  PINS,
  startDeviceHarness,
  type Wanted,
} from './device-harness.js';

const OTHER = 'dev-2';
const rogue = generateKeyPair();
let h: DeviceHarness;
let mirror: AttackerMirror | undefined;
let running: { progId: number; version: string; build: number };

before(async () => {
  h = await startDeviceHarness({
    otherDevices: [OTHER],
    agentRegistryUrl: async (real, host) => {
      mirror = await startAttackerMirror(real, host);
      return mirror.url;
    },
    // Slow retrieval is judged quickly here: below 20 KB/s after 1 s.
    registryConfig: { stallTimeoutSeconds: 1, minBytesPerSecond: 20_000 },
  });
  await h.release('1.0.0', 1);
  h.startAgent();
  const wanted: Wanted = { version: '1.0.0', build: 10, channel: false };
  await h.converged(wanted, await h.applyPolicy(wanted), 'v1.0.0 running');
  running = { progId: xdpPrograms(h.net.deviceNs, h.net.wan)[0] ?? -1, version: '1.0.0', build: 10 };
});
after(async () => {
  await h?.close();
  await mirror?.close();
});

const events = () => h.edge.store.events(DEVICE, 500).map((e) => e.event);

/** Waits for the agent's refusal (an event with a reason for `version`), then checks that nothing changed. */
async function refused(version: string, code: RegExp): Promise<string> {
  let seen = '';
  await until(
    () =>
      events().some((e) => {
        if (e.version !== version || !e.reason || !['ROLLED_BACK', 'REJECTED', 'FAILED'].includes(e.state))
          return false;
        seen = `${e.state} ${e.reason.code}: ${e.reason.message}`;
        return code.test(e.reason.code);
      }),
    `refusal of ${version} (${code})`,
    60_000,
    () => [seen, h.program(), h.agent()?.logs().slice(-3)],
  );
  await untouched(`after the ${version} attack`);
  return seen;
}

/** Back to the running version by policy, so the agent stops wanting the refused one before the attack ends. */
async function restore(): Promise<void> {
  const wanted: Wanted = { version: running.version, build: running.build, channel: false };
  await h.converged(wanted, await h.applyPolicy(wanted), `back to ${running.version}`);
  await untouched('after restoring the policy');
}

async function untouched(what: string): Promise<void> {
  const progs = xdpPrograms(h.net.deviceNs, h.net.wan);
  assert.deepEqual(progs, [running.progId], `${what}: the same program is attached`);
  assert.equal(linksRunning(running.progId), 1, `${what}: one link`);
  assert.deepEqual(pinsUnder(h.pinRoot), PINS, `${what}: pins`);
  assert.equal(h.program()?.version, running.version, `${what}: reported version`);
  await until(
    async () => {
      await h.net.ping(1, 0.2);
      return (await h.counts()).get('slot=1') === running.build;
    },
    `${what}: build ${running.build} still counting`,
    10_000,
  );
}

/** A package signed by the trusted publisher from any files (the registry may refuse to publish it). */
async function craft(manifest: Manifest, files: Array<{ path: string; data: Uint8Array }>) {
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const archive = await packArchive([{ path: 'manifest.json', data: manifestBytes }, ...files]);
  const manifestDigest = sha256Digest(manifestBytes);
  const digest = sha256Digest(archive);
  const bundle = await signPackage(
    { name: manifest.name, version: manifest.version, digest, manifestDigest },
    toSigningKey(h.publisher.privateKeyPem),
  );
  return { archive, digest, manifestDigest, manifestBytes, bundle };
}

/** Like `craft`, but the object is `size` zeros packed by tar(1): packArchive itself refuses over-limit entries. */
async function craftBomb(manifest: Manifest, size: number) {
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const dir = mkdtempSync(join(tmpdir(), 'bpfleet-bomb-'));
  try {
    writeFileSync(join(dir, 'manifest.json'), manifestBytes);
    mkdirSync(join(dir, 'bpf', arch), { recursive: true });
    writeFileSync(join(dir, 'bpf', arch, 'count.bpf.o'), Buffer.alloc(size));
    const tar = ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--mode=0644'];
    execFileSync('tar', [
      ...tar,
      '-C',
      dir,
      '-cf',
      join(dir, 'p.tar'),
      'manifest.json',
      `bpf/${arch}/count.bpf.o`,
    ]);
    const archive = gzipSync(readFileSync(join(dir, 'p.tar')), { level: 9 });
    const manifestDigest = sha256Digest(manifestBytes);
    const digest = sha256Digest(archive);
    const bundle = await signPackage(
      { name: manifest.name, version: manifest.version, digest, manifestDigest },
      toSigningKey(h.publisher.privateKeyPem),
    );
    return { archive, digest, manifestDigest, manifestBytes, bundle };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('wrong arch: a package for another architecture is refused before load', async (t) => {
  const other = arch === 'arm64' ? 'x86' : 'arm64';
  const manifest = countManifest('1.1.0', 2);
  manifest.requires.arches = [other as Manifest['requires']['arches'][number]];
  const pkg = await craft(manifest, [
    { path: `bpf/${other}/count.bpf.o`, data: compileProgram('xdp_count') },
  ]);
  await h.publish.publish({
    namespace: 'acme',
    name: 'count',
    version: '1.1.0',
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
  await h.applyPolicy({ version: '1.1.0', build: 11, channel: false });
  t.diagnostic(await refused('1.1.0', /^REQUIREMENTS_NOT_MET$/));
  await restore();
});

test('mix-and-match: the bundle of another version served for this one is refused', async (t) => {
  await h.release('1.2.0', 3, false);
  const old = await (await fetch(`${h.registry.url}/v1/packages/acme/count/versions/1.0.0/bundle`)).text();
  mirror?.intercept(/\/versions\/1\.2\.0\/bundle$/, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(old);
  });
  try {
    await h.applyPolicy({ version: '1.2.0', build: 12, channel: false });
    t.diagnostic(await refused('1.2.0', /^SUBJECT_MISMATCH$/));
    await restore();
  } finally {
    mirror?.intercept(/\/versions\/1\.2\.0\/bundle$/, undefined);
  }
});

test('gzip bomb: a signed package that inflates past the limits (planted in the registry storage) is refused', async (t) => {
  // 32 MiB of zeros in one entry, ~32 KiB compressed: over the 16 MiB entry limit. The registry would refuse to
  // publish it, so it is planted as a compromised registry host would: blob file, catalog row, index re-signed.
  const pkg = await craftBomb(countManifest('1.3.0', 4), 32 * 1024 * 1024);
  assert.ok(pkg.archive.length < 256 * 1024, `${pkg.archive.length} bytes compressed`);
  await assert.rejects(unpackArchive(pkg.archive), /over \d+/);
  const path = h.registry.blobPath(pkg.digest);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, pkg.archive);
  const db = new Database(join(h.registry.dataDir, 'catalog.db'));
  try {
    db.prepare(
      `INSERT INTO versions (namespace, name, version, digest, size, manifest_digest, manifest, bundle,
         description, license, published_at, yanked, yank_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      'acme',
      'count',
      '1.3.0',
      pkg.digest,
      pkg.archive.length,
      pkg.manifestDigest,
      pkg.manifestBytes.toString(),
      JSON.stringify(pkg.bundle),
      '',
      'GPL',
      new Date().toISOString(),
      0,
      null,
    );
    db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'changes'").run();
  } finally {
    db.close();
  }
  await h.applyPolicy({ version: '1.3.0', build: 13, channel: false });
  t.diagnostic(await refused('1.3.0', /TOO_LARGE|LIMIT|ARCHIVE/));
  await restore();
});

test('slow retrieval: a mirror that trickles the package is abandoned, the download refused', async (t) => {
  const pkg = await h.release('1.4.0', 5, false);
  let served = 0;
  mirror?.intercept(new RegExp(`/v1/blobs/${pkg.digest}$`), (req, res) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let at = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': String(pkg.archive.length - at),
      ...(m ? { 'content-range': `bytes ${at}-${pkg.archive.length - 1}/${pkg.archive.length}` } : {}),
    });
    // 64 bytes every 100 ms: 640 B/s, alive enough never to stall.
    const tick = setInterval(() => {
      res.write(pkg.archive.subarray(at, at + 64));
      at += 64;
      served += 64;
    }, 100);
    res.on('close', () => clearInterval(tick));
  });
  try {
    await h.applyPolicy({ version: '1.4.0', build: 14, channel: false });
    t.diagnostic(await refused('1.4.0', /FETCH_FAILED/));
    t.diagnostic(`the mirror trickled ${served} of ${pkg.archive.length} bytes`);
    assert.ok(served < pkg.archive.length);
    // The agent retries a failed fetch later: the mirror now refuses outright, so going back is quick.
    mirror?.intercept(new RegExp(`/v1/blobs/${pkg.digest}$`), (_req, res) => {
      res.writeHead(404).end();
    });
    await restore();
  } finally {
    mirror?.intercept(new RegExp(`/v1/blobs/${pkg.digest}$`), undefined);
  }
});

test('fast-forward serials: an index and policies with huge serials from wrong keys are refused and poison nothing', async (t) => {
  // A forged index (serial 2^40) from a key that is not the registry's.
  await h.release('1.5.0', 6, false);
  const forged = await signDocument(
    INDEX_PAYLOAD_TYPE,
    {
      schema: 'bpfleet.index/v1',
      serial: 2 ** 40,
      issuedAt: new Date().toISOString(),
      expires: '2099-01-01T00:00:00Z',
      namespace: null,
      registryKeyId: rogue.keyId,
      packages: {},
    },
    toSigningKey(rogue.privateKeyPem),
  );
  mirror?.intercept(/^\/v1\/index/, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(forged));
  });
  try {
    const serial = await h.applyPolicy({ version: '1.5.0', build: 15, channel: false });
    await until(
      () => /KEY|SIGNATURE/.test(h.program()?.lastError?.code ?? ''),
      'forged index refused',
      60_000,
      () => h.program(),
    );
    t.diagnostic(`forged index: ${JSON.stringify(h.program()?.lastError)}`);
    await untouched('after the forged index');
    mirror?.intercept(/^\/v1\/index/, undefined);
    // The genuine index, with a serial far below 2^40, is still accepted: the forged serial was not stored.
    const wanted: Wanted = { version: '1.5.0', build: 15, channel: false };
    await h.converged(wanted, serial, 'the genuine index after the forged one');
    running = { progId: xdpPrograms(h.net.deviceNs, h.net.wan)[0] ?? -1, version: '1.5.0', build: 15 };
  } finally {
    mirror?.intercept(/^\/v1\/index/, undefined);
  }
  // Policies from a non-operator key, one at the next serial and one at 2^40: both refused.
  const topic = deviceTopic(FLEET, DEVICE, 'desired');
  const applied = h.appliedSerial() ?? 0;
  for (const serial of [applied + 1, 2 ** 40]) {
    await h.applyPolicy({ version: '1.0.0', build: 99, channel: false }, rogue, serial);
    await until(
      () => /KEY|SIGNATURE/.test(h.edge.store.getDevice(DEVICE)?.reported?.policyErrors[topic]?.code ?? ''),
      `rogue policy serial ${serial} refused`,
      30_000,
    );
    await sleep(500);
    assert.equal(h.appliedSerial(), applied, 'the applied serial did not move');
    await untouched(`after the rogue policy with serial ${serial}`);
  }
  t.diagnostic(
    `rogue policy: ${JSON.stringify(h.edge.store.getDevice(DEVICE)?.reported?.policyErrors[topic])}`,
  );
  // Neither moved the policy serial: the operator's next policy still applies.
  const wanted: Wanted = { version: '1.5.0', build: 16, channel: false };
  await h.converged(wanted, await h.applyPolicy(wanted), 'the operator policy after the rogue ones');
  running = { progId: xdpPrograms(h.net.deviceNs, h.net.wan)[0] ?? -1, version: '1.5.0', build: 16 };
});

test('a device publishing as another device through the broker is refused', async () => {
  const login = h.edge.logins[OTHER];
  assert.ok(login);
  const client = await mqtt.connectAsync(h.edge.brokerUrl, {
    clientId: OTHER,
    username: OTHER,
    password: login.secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  client.on('error', () => {});
  const reported = () => {
    const r = h.edge.store.getDevice(DEVICE)?.reported;
    return JSON.stringify([r?.device, r?.policies, r?.programs]);
  };
  const before = reported();
  const fake = { ...h.edge.store.getDevice(DEVICE)?.reported, time: new Date().toISOString(), programs: [] };
  const attempts = [
    [deviceTopic(FLEET, DEVICE, 'reported'), JSON.stringify(fake)],
    [deviceTopic(FLEET, DEVICE, 'presence'), 'offline'],
    [deviceTopic(FLEET, DEVICE, 'desired'), JSON.stringify({ not: 'a policy' })],
  ] as const;
  for (const [topic, payload] of attempts) {
    // QoS 0: a broker that drops the publish (or the connection) gives no acknowledgement to wait for.
    await Promise.race([
      client.publishAsync(topic, payload, { qos: 0, retain: true }).catch(() => {}),
      sleep(1000),
    ]);
  }
  await sleep(1500);
  await client.endAsync(true).catch(() => {});
  assert.equal(reported(), before, 'the reported state of dev-1 is unchanged');
  assert.equal(h.edge.store.getDevice(DEVICE)?.presence, 'online');
  assert.ok(
    !events().some((e) => e.state === 'REJECTED' && e.reason?.code === 'POLICY_INVALID'),
    'no desired reached the agent',
  );
  await untouched('after dev-2 published as dev-1');
});
