// The Catalog contract, written once: every implementation (SQLite, PostgreSQL, …) runs it from its own test file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import type { Catalog, VersionRecord } from './catalog.js';

export interface CatalogFixture {
  catalog: Catalog;
  close(): Promise<void>;
}

const at = new Date('2026-01-02T03:04:05.000Z');

function versionRecord(
  ns: string,
  name: string,
  version: string,
  extra: Partial<VersionRecord> = {},
): VersionRecord {
  return {
    namespace: ns,
    name,
    version,
    digest: sha256Digest(`${ns}/${name}@${version}`),
    size: 100,
    manifestDigest: sha256Digest(`manifest ${version}`),
    manifest: '{}',
    bundle: '{}',
    description: `${name} does things`,
    license: 'GPL-2.0',
    publishedAt: at.toISOString(),
    yanked: false,
    yankReason: null,
    ...extra,
  };
}

const hasCode = (code: string) => (err: unknown) => isBpfleetError(err) && err.code === code;

export function runCatalogContract(label: string, open: () => Promise<CatalogFixture>): void {
  describe(`Catalog contract: ${label}`, () => {
    async function withCatalog(fn: (catalog: Catalog) => Promise<void>): Promise<void> {
      const fixture = await open();
      try {
        await fn(fixture.catalog);
      } finally {
        await fixture.close();
      }
    }

    it('creates namespaces once', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await assert.rejects(c.createNamespace('acme', at), hasCode('NAMESPACE_EXISTS'));
        assert.deepEqual(await c.getNamespace('acme'), { name: 'acme', createdAt: at.toISOString() });
        assert.equal(await c.getNamespace('nope'), undefined);
        assert.deepEqual(
          (await c.listNamespaces()).map((n) => n.name),
          ['acme'],
        );
      }));

    it('registers, lists and removes publisher keys per namespace', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        const key = { namespace: 'acme', keyId: 'k1', publicKeyPem: 'PEM', addedAt: at.toISOString() };
        await c.addPublisherKey(key);
        await assert.rejects(c.addPublisherKey(key), hasCode('KEY_EXISTS'));
        await assert.rejects(
          c.addPublisherKey({ ...key, namespace: 'other' }),
          hasCode('NAMESPACE_NOT_FOUND'),
        );
        assert.deepEqual(await c.listPublisherKeys('acme'), [key]);
        assert.equal(await c.removePublisherKey('acme', 'k1'), true);
        assert.equal(await c.removePublisherKey('acme', 'k1'), false);
        assert.deepEqual(await c.listPublisherKeys('acme'), []);
      }));

    it('stores tokens by hash and revokes them', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        const token = {
          id: 't1',
          namespace: 'acme',
          label: 'ci',
          hash: 'h1',
          createdAt: at.toISOString(),
          revokedAt: null,
        };
        await c.createToken(token);
        assert.deepEqual(await c.findTokenByHash('h1'), token);
        assert.equal(await c.findTokenByHash('h2'), undefined);
        assert.equal(await c.revokeToken('t1', at), true);
        assert.equal(await c.revokeToken('t1', at), false);
        assert.equal((await c.findTokenByHash('h1'))?.revokedAt, at.toISOString());
        assert.equal((await c.listTokens('acme')).length, 1);
      }));

    it('keeps versions immutable: a second insert of a version fails whatever its bytes', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await c.insertVersion(versionRecord('acme', 'fw', '1.0.0'));
        await assert.rejects(
          c.insertVersion(versionRecord('acme', 'fw', '1.0.0', { digest: sha256Digest('other') })),
          hasCode('VERSION_EXISTS'),
        );
        assert.equal((await c.getVersion('acme', 'fw', '1.0.0'))?.digest, sha256Digest('acme/fw@1.0.0'));
        await assert.rejects(
          c.insertVersion(versionRecord('ghost', 'fw', '1.0.0')),
          hasCode('NAMESPACE_NOT_FOUND'),
        );
      }));

    it('lets exactly one of concurrent inserts of a version win', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            c.insertVersion(versionRecord('acme', 'fw', '2.0.0', { digest: sha256Digest(`racer ${i}`) })),
          ),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(hasCode('VERSION_EXISTS')(r.reason));
      }));

    it('lists versions newest first, summarizes packages, searches', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await c.createNamespace('zed', at);
        for (const v of ['1.0.0', '1.10.0', '1.2.0', '2.0.0-rc.1'])
          await c.insertVersion(versionRecord('acme', 'fw', v));
        await c.insertVersion(versionRecord('zed', 'counter', '0.1.0', { description: 'counts packets' }));
        assert.deepEqual(
          (await c.listVersions('acme', 'fw')).map((v) => v.version),
          ['2.0.0-rc.1', '1.10.0', '1.2.0', '1.0.0'],
        );
        const pkg = await c.getPackage('acme', 'fw');
        assert.equal(pkg?.latest, '1.10.0');
        assert.equal(pkg?.versions, 4);
        assert.equal(await c.getPackage('acme', 'nope'), undefined);
        assert.deepEqual(
          (await c.listPackages({ limit: 10, offset: 0 })).map((p) => `${p.namespace}/${p.name}`),
          ['acme/fw', 'zed/counter'],
        );
        assert.deepEqual(
          (await c.listPackages({ text: 'PACKETS', limit: 10, offset: 0 })).map((p) => p.name),
          ['counter'],
        );
        assert.deepEqual(
          (await c.listPackages({ namespace: 'acme', limit: 10, offset: 0 })).map((p) => p.name),
          ['fw'],
        );
        assert.deepEqual(await c.listPackages({ limit: 10, offset: 2 }), []);
      }));

    it('yanks without deleting; latest skips yanked versions', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await c.insertVersion(versionRecord('acme', 'fw', '1.0.0'));
        await c.insertVersion(versionRecord('acme', 'fw', '1.1.0'));
        assert.equal(await c.setYanked('acme', 'fw', '1.1.0', 'broken on arm64', at), true);
        assert.equal(await c.setYanked('acme', 'fw', '9.9.9', 'x', at), false);
        const v = await c.getVersion('acme', 'fw', '1.1.0');
        assert.equal(v?.yanked, true);
        assert.equal(v?.yankReason, 'broken on arm64');
        assert.equal((await c.getPackage('acme', 'fw'))?.latest, '1.0.0');
        assert.equal(await c.hasDigest(v!.digest), true);
        await c.setYanked('acme', 'fw', '1.1.0', null, at);
        assert.equal((await c.getVersion('acme', 'fw', '1.1.0'))?.yanked, false);
      }));

    it('points channels at existing versions only', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await c.insertVersion(versionRecord('acme', 'fw', '1.0.0'));
        await c.insertVersion(versionRecord('acme', 'fw', '1.1.0'));
        await c.setChannel('acme', 'fw', 'stable', '1.0.0', at);
        await c.setChannel('acme', 'fw', 'stable', '1.1.0', at);
        await c.setChannel('acme', 'fw', 'canary', '1.1.0', at);
        await assert.rejects(c.setChannel('acme', 'fw', 'beta', '3.0.0', at), hasCode('VERSION_NOT_FOUND'));
        assert.deepEqual(
          (await c.listChannels('acme', 'fw')).map((ch) => [ch.channel, ch.version]),
          [
            ['canary', '1.1.0'],
            ['stable', '1.1.0'],
          ],
        );
      }));

    it('applies a statement with its effect only above the stream serial, and lists it in the index', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await c.insertVersion(versionRecord('acme', 'fw', '1.0.0'));
        await c.insertVersion(versionRecord('acme', 'fw', '1.1.0'));
        const move = (serial: number, version: string) =>
          c.applyStatement(
            'acme',
            'fw',
            { stream: 'channel:stable', serial, body: `{"s":${serial}}` },
            { kind: 'channel', channel: 'stable', version },
            at,
          );
        assert.equal(await move(2, '1.1.0'), true);
        assert.equal(await move(2, '1.0.0'), false, 'same serial: a replay');
        assert.equal(await move(1, '1.0.0'), false, 'older serial');
        assert.deepEqual(
          (await c.listChannels('acme', 'fw')).map((ch) => ch.version),
          ['1.1.0'],
        );
        const yank = { stream: 'version:1.0.0', serial: 1, body: '{"y":1}' };
        assert.equal(
          await c.applyStatement('acme', 'fw', yank, { kind: 'yank', version: '1.0.0', reason: 'cve' }, at),
          true,
        );
        assert.equal((await c.getVersion('acme', 'fw', '1.0.0'))?.yankReason, 'cve');
        assert.deepEqual(
          (await c.listStatements('acme', 'fw')).map((st) => [st.stream, st.serial]),
          [
            ['channel:stable', 2],
            ['version:1.0.0', 1],
          ],
        );
        assert.deepEqual((await c.indexPackages('acme'))[0]?.statements, ['{"s":2}', '{"y":1}']);
      }));

    it('builds index content whole or per namespace, and counts changes', () =>
      withCatalog(async (c) => {
        await c.createNamespace('acme', at);
        await c.createNamespace('zed', at);
        const before = await c.changeCounter();
        await c.insertVersion(versionRecord('acme', 'fw', '1.0.0'));
        await c.insertVersion(versionRecord('zed', 'counter', '0.1.0'));
        await c.setChannel('acme', 'fw', 'stable', '1.0.0', at);
        await c.setYanked('zed', 'counter', '0.1.0', 'bad', at);
        assert.ok((await c.changeCounter()) >= before + 4);
        const all = await c.indexPackages();
        assert.deepEqual(
          all.map((p) => `${p.namespace}/${p.name}`),
          ['acme/fw', 'zed/counter'],
        );
        assert.deepEqual(all[0]?.channels, { stable: '1.0.0' });
        assert.equal(all[1]?.versions[0]?.yanked, true);
        const acme = await c.indexPackages('acme');
        assert.deepEqual(
          acme.map((p) => p.name),
          ['fw'],
        );
        assert.deepEqual(
          await c.referencedDigests(),
          new Set(all.flatMap((p) => p.versions.map((v) => v.digest))),
        );
      }));

    it('hands out index serials that only grow', () =>
      withCatalog(async (c) => {
        const a = await c.nextIndexSerial();
        const b = await c.nextIndexSerial();
        assert.ok(b > a);
      }));

    it('keeps the signed index with the highest serial per scope', () =>
      withCatalog(async (c) => {
        assert.equal(await c.getSignedIndex('*'), undefined);
        const entry = (serial: number) => ({
          serial,
          changes: serial * 10,
          issuedAt: at.toISOString(),
          expires: at.toISOString(),
          body: `{"serial":${serial}}`,
        });
        assert.equal((await c.putSignedIndex('*', entry(5))).serial, 5);
        assert.equal(
          (await c.putSignedIndex('*', entry(4))).serial,
          5,
          'a lower serial never replaces a higher one',
        );
        assert.deepEqual(await c.putSignedIndex('*', entry(7)), entry(7));
        assert.equal((await c.putSignedIndex('acme', entry(6))).serial, 6, 'scopes are independent');
        assert.deepEqual(await c.getSignedIndex('*'), entry(7));
      }));

    it('stores settings', () =>
      withCatalog(async (c) => {
        assert.equal(await c.getSetting('admin_token_hash'), undefined);
        await c.setSetting('admin_token_hash', 'x');
        await c.setSetting('admin_token_hash', 'y');
        assert.equal(await c.getSetting('admin_token_hash'), 'y');
      }));
  });
}
