// The Catalog contract for several processes on one store: two handles (pools, connections) racing each other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import type { Catalog, VersionRecord } from './catalog.js';

export interface CatalogPairFixture {
  /** Two independent handles on the same store, as two edges would hold. */
  a: Catalog;
  b: Catalog;
  close(): Promise<void>;
}

const at = new Date('2026-01-02T03:04:05.000Z');

const record = (version: string, i: number): VersionRecord => ({
  namespace: 'acme',
  name: 'fw',
  version,
  digest: sha256Digest(`racer ${i}`),
  size: 10,
  manifestDigest: sha256Digest('m'),
  manifest: '{}',
  bundle: '{}',
  description: 'd',
  license: 'GPL-2.0',
  publishedAt: at.toISOString(),
  yanked: false,
  yankReason: null,
});

export function runCatalogSharingContract(label: string, open: () => Promise<CatalogPairFixture>): void {
  describe(`Catalog sharing contract: ${label}`, () => {
    async function withPair(fn: (a: Catalog, b: Catalog) => Promise<void>): Promise<void> {
      const fixture = await open();
      try {
        await fn(fixture.a, fixture.b);
      } finally {
        await fixture.close();
      }
    }

    it('lets exactly one of concurrent inserts from two handles win', () =>
      withPair(async (a, b) => {
        await a.createNamespace('acme', at);
        await a.insertVersion(record('0.9.0', 99));
        const results = await Promise.allSettled(
          Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).insertVersion(record('1.0.0', i))),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results)
          if (r.status === 'rejected')
            assert.ok(isBpfleetError(r.reason) && r.reason.code === 'VERSION_EXISTS');
        assert.equal((await b.listVersions('acme', 'fw')).length, 2);
      }));

    it('hands out distinct, growing index serials to both handles', () =>
      withPair(async (a, b) => {
        const serials = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).nextIndexSerial()),
        );
        assert.equal(new Set(serials).size, serials.length, 'no serial handed out twice');
        assert.ok((await a.nextIndexSerial()) > Math.max(...serials));
      }));

    it('keeps the highest signed index when both handles store at once', () =>
      withPair(async (a, b) => {
        const order = [7, 3, 19, 1, 12, 20, 5, 16, 2, 9, 14, 11, 4, 18, 6, 13, 8, 17, 10, 15];
        const stored = await Promise.all(
          order.map((serial, i) =>
            (i % 2 ? a : b).putSignedIndex('*', {
              serial,
              changes: serial,
              issuedAt: at.toISOString(),
              expires: at.toISOString(),
              body: `{"serial":${serial}}`,
            }),
          ),
        );
        for (const [i, s] of stored.entries())
          assert.ok(s.serial >= order[i]!, 'the stored index is never older than the one put');
        assert.equal((await a.getSignedIndex('*'))?.body, '{"serial":20}');
        assert.equal((await b.getSignedIndex('*'))?.serial, 20);
      }));

    it('applies one of two concurrent statements with the same serial, and counts the change once', () =>
      withPair(async (a, b) => {
        await a.createNamespace('acme', at);
        await a.insertVersion(record('1.0.0', 1));
        await a.insertVersion(record('1.1.0', 2));
        const before = await b.changeCounter();
        const move = (c: Catalog, version: string) =>
          c.applyStatement(
            'acme',
            'fw',
            { stream: 'channel:stable', serial: 5, body: `{"v":"${version}"}` },
            { kind: 'channel', channel: 'stable', version },
            at,
          );
        const applied = await Promise.all([
          move(a, '1.0.0'),
          move(b, '1.1.0'),
          move(a, '1.1.0'),
          move(b, '1.0.0'),
        ]);
        assert.equal(applied.filter(Boolean).length, 1);
        assert.equal(await b.changeCounter(), before + 1);
        const [statement] = await a.listStatements('acme', 'fw');
        const [channel] = await b.listChannels('acme', 'fw');
        assert.equal(
          statement?.body,
          `{"v":"${channel?.version}"}`,
          'the stored statement and its effect agree',
        );
      }));
  });
}
