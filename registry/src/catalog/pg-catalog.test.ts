// Runs the Catalog contracts on PostgreSQL 15: a throwaway cluster per file, a fresh database per test.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type PostgresServer, startPostgres } from '../testing/postgres-server.js';
import { runCatalogContract } from './catalog-contract.js';
import { runCatalogSharingContract } from './catalog-sharing-contract.js';
import { openPgCatalog } from './pg-catalog.js';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

runCatalogContract('postgresql 15', async () => {
  const catalog = await openPgCatalog(await server.createDatabase());
  return { catalog, close: () => catalog.close() };
});

runCatalogSharingContract('postgresql 15, two pools', async () => {
  const url = await server.createDatabase();
  const [a, b] = await Promise.all([openPgCatalog(url), openPgCatalog(url)]);
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
});

test('postgresql: the index serial and namespaces persist across a reopen', async () => {
  const url = await server.createDatabase();
  const first = await openPgCatalog(url);
  await first.createNamespace('acme', new Date());
  const serial = await first.nextIndexSerial();
  await first.close();
  const second = await openPgCatalog(url);
  try {
    assert.ok((await second.nextIndexSerial()) > serial);
    assert.ok(await second.getNamespace('acme'));
  } finally {
    await second.close();
  }
});

test('postgresql: an unreachable database is CATALOG_UNAVAILABLE with the URL, never its password', async () => {
  const url = `postgres://bpfleet:s3cret@127.0.0.1:${server.port + 0}/no_such_db`;
  await assert.rejects(openPgCatalog(url), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CATALOG_UNAVAILABLE');
    assert.match(err.message, /^catalog postgres:\/\/bpfleet:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
});

test('postgresql: a catalog keeps working after the server restarts under it (connections cut)', async () => {
  const url = await server.createDatabase();
  const catalog = await openPgCatalog(url);
  try {
    await catalog.createNamespace('before', new Date());
    const serial = await catalog.nextIndexSerial();
    await server.restart();
    // The server tells its clients it shuts down: the pool drops them, the next call opens a new connection.
    assert.ok(await catalog.getNamespace('before'));
    await catalog.createNamespace('after', new Date());
    assert.ok((await catalog.nextIndexSerial()) > serial);
  } finally {
    await catalog.close();
  }
});
