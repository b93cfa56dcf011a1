// TrustRoot: the inline config as v1, roots walked from a real HTTP server, keys swapped in place, refusals kept.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  generateKeyPair,
  type KeyPair,
  type RootDocument,
  signPackage,
  signRoot,
  type TrustedKey,
  toSigningKey,
  verifyPackage,
} from '@bpfleet/sdk/trust';
import { silentLogger } from '../logger.js';
import type { DeviceTrust } from './live-trust.js';
import { edgeRootSource, RootChainFiles } from './root-sources.js';
import { type RootRefusal, TrustRoot } from './trust-root.js';

const key = (k: KeyPair): TrustedKey => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem });
const [root1, root2, registry, registry2, operator, pub1, pub2] = Array.from(
  { length: 7 },
  generateKeyPair,
) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair, KeyPair, KeyPair];
const served = new Map<number, unknown>();
let url: string;
let dir: string;
const server = createServer((req, res) => {
  const m = /^\/v1\/root\/(\d+)\.json$/.exec(req.url ?? '');
  const body = m ? served.get(Number(m[1])) : undefined;
  res
    .writeHead(body ? 200 : 404, { 'content-type': 'application/json' })
    .end(body ? JSON.stringify(body) : '{}');
});

function rootOf(
  version: number,
  publishers: KeyPair[],
  over: Partial<RootDocument['roles']> = {},
): RootDocument {
  return {
    schema: 'bpfleet.root/v1',
    version,
    expires: '2099-01-01T00:00:00Z',
    roles: {
      root: { keys: [key(root1), key(root2)], threshold: 2 },
      registry: { keys: [key(registry), key(registry2)] },
      operators: { keys: [key(operator)], threshold: 1 },
      edge: { keys: [] },
      publishers: { acme: { keys: publishers.map(key) } },
      ...over,
    },
  };
}
const sign = (r: RootDocument) =>
  signRoot(
    r,
    [root1, root2].map((k) => toSigningKey(k.privateKeyPem)),
  );

function deviceTrust(): DeviceTrust {
  return {
    operatorKeys: [key(operator)],
    operatorThreshold: 1,
    edgeKeys: [],
    registryKeys: [key(registry)],
    publishers: { acme: [key(pub1)] },
    rootKeys: [key(root1), key(root2)],
    rootThreshold: 2,
  };
}

async function open(trust: DeviceTrust, refusals: RootRefusal[]): Promise<TrustRoot> {
  const root = await TrustRoot.open({
    trust,
    files: new RootChainFiles(join(dir, 'roots')),
    edge: edgeRootSource(url),
    logger: silentLogger,
  });
  assert.ok(root);
  root.listen(
    (r) => refusals.push(r),
    () => {},
  );
  return root;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-rta-root-'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('TrustRoot', () => {
  it('walks v2 from the edge and swaps the keys in place: a verifier built before sees the new publisher', async () => {
    const trust = deviceTrust();
    const publishers = trust.publishers;
    const subject = {
      name: 'acme/fw',
      version: '1.0.0',
      digest: `sha256:${'a'.repeat(64)}`,
      manifestDigest: `sha256:${'b'.repeat(64)}`,
    };
    const byPub2 = await signPackage(subject, toSigningKey(pub2.privateKeyPem));
    const byPub1 = await signPackage(subject, toSigningKey(pub1.privateKeyPem));
    await assert.rejects(verifyPackage(byPub2, subject, { publishers }, new Date()));
    served.set(2, await sign(rootOf(2, [pub2])));
    const refusals: RootRefusal[] = [];
    const root = await open(trust, refusals);
    await root.sync();
    assert.equal(root.version, 2);
    assert.deepEqual(refusals, []);
    assert.equal(trust.publishers, publishers, 'the same object, changed in place');
    await verifyPackage(byPub2, subject, { publishers }, new Date());
    await assert.rejects(verifyPackage(byPub1, subject, { publishers }, new Date()), (e: { code: string }) =>
      ['KEY_UNKNOWN', 'KEY_NOT_TRUSTED_FOR_NAMESPACE'].includes(e.code),
    );
    assert.deepEqual(trust.registryKeys, [key(registry), key(registry2)]);
    assert.deepEqual(await readdir(join(dir, 'roots')), ['2.json']);
    root.stop();
  });

  it('refuses a skipped version and a rollback served as the next one; a restart re-walks the kept chain offline', async () => {
    served.set(3, await sign(rootOf(4, [pub2])));
    const refusals: RootRefusal[] = [];
    const trust = deviceTrust();
    const root = await open(trust, refusals);
    assert.equal(root.version, 2, 'v2 from the kept chain');
    await root.sync();
    assert.equal(root.version, 2);
    assert.deepEqual(
      refusals.map((r) => [r.version, r.code]),
      [[3, 'ROOT_VERSION_SKIPPED']],
    );
    served.set(3, served.get(2));
    await root.sync();
    assert.deepEqual(refusals.at(-1)?.code, 'ROOT_ROLLBACK');
    assert.deepEqual(trust.publishers.acme, [key(pub2)], 'still v2');
    // A v3 signed by only one of the two root keys: not a threshold.
    served.set(3, await signRoot(rootOf(3, [pub1]), [toSigningKey(root1.privateKeyPem)]));
    await root.sync();
    assert.equal(refusals.at(-1)?.code, 'THRESHOLD_NOT_MET');
    root.stop();
  });

  it('an announcement only triggers a fetch; an expired newest root freezes the keys (ROOT_EXPIRED)', async () => {
    const expired = rootOf(3, [pub2]);
    expired.expires = '2020-01-01T00:00:00Z';
    served.set(3, await sign(expired));
    const refusals: RootRefusal[] = [];
    const trust = deviceTrust();
    const root = await open(trust, refusals);
    root.announce(Buffer.from('{"version":3}'));
    await root.sync();
    assert.equal(root.version, 3);
    assert.equal(refusals.at(-1)?.code, 'ROOT_EXPIRED');
    assert.deepEqual(trust.publishers, {});
    assert.deepEqual(trust.registryKeys, []);
    root.stop();
  });
});
