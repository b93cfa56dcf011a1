// Runs the Catalog contract on SQLite (in memory and on disk) and checks that state survives a reopen.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCatalogContract } from './catalog-contract.js';
import { runCatalogSharingContract } from './catalog-sharing-contract.js';
import { openSqliteCatalog } from './sqlite-catalog.js';

runCatalogContract('sqlite :memory:', async () => {
  const catalog = openSqliteCatalog(':memory:');
  return { catalog, close: () => catalog.close() };
});

runCatalogContract('sqlite file (WAL)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-catalog-'));
  const catalog = openSqliteCatalog(join(dir, 'catalog.db'));
  return {
    catalog,
    close: async () => {
      await catalog.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

runCatalogSharingContract('sqlite file (WAL), two connections', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-catalog-'));
  const a = openSqliteCatalog(join(dir, 'catalog.db'));
  const b = openSqliteCatalog(join(dir, 'catalog.db'));
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('the index serial and namespaces persist across a reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-catalog-'));
  try {
    const path = join(dir, 'catalog.db');
    const first = openSqliteCatalog(path);
    await first.createNamespace('acme', new Date());
    const serial = await first.nextIndexSerial();
    await first.close();
    const second = openSqliteCatalog(path);
    assert.ok((await second.nextIndexSerial()) > serial);
    assert.ok(await second.getNamespace('acme'));
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
