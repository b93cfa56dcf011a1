// Config precedence (defaults < file < env < flags) and refusal of bad values.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import { loadEdgeConfig, parseDuration } from './config.js';

test('flags beat env beat the config file beat defaults', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-config-'));
  try {
    const file = join(dir, 'edge.json');
    await writeFile(
      file,
      JSON.stringify({ dataDir: '/from/file', port: 9000, indexTtl: '12h', host: '0.0.0.0' }),
    );
    const fromFile = await loadEdgeConfig(['--config', file], {});
    assert.deepEqual(
      [fromFile.dataDir, fromFile.port, fromFile.indexTtlMs, fromFile.host],
      ['/from/file', 9000, 12 * 3_600_000, '0.0.0.0'],
    );
    const fromEnv = await loadEdgeConfig(['--config', file], {
      BPFLEET_EDGE_PORT: '9100',
      BPFLEET_EDGE_ADMIN_TOKEN: 't',
    });
    assert.equal(fromEnv.port, 9100);
    assert.equal(fromEnv.adminToken, 't');
    const fromFlags = await loadEdgeConfig(['--config', file, '--port', '0', '--data-dir', '/x'], {
      BPFLEET_EDGE_PORT: '9100',
    });
    assert.equal(fromFlags.port, 0);
    assert.equal(fromFlags.dataDir, '/x');
    assert.equal(fromFlags.workers, 1);
    assert.ok((await loadEdgeConfig(['--workers', 'auto'], {})).workers >= 1);
    assert.equal((await loadEdgeConfig([], { BPFLEET_EDGE_WORKERS: '3' })).workers, 3);
    await assert.rejects(loadEdgeConfig(['--workers', '0'], {}), /not a worker count/);
    await writeFile(file, JSON.stringify({ prot: 1 }));
    await assert.rejects(loadEdgeConfig(['--config', file], {}), /unknown field prot/);
    await assert.rejects(loadEdgeConfig(['--port', 'http'], {}), (e: unknown) => isBpfleetError(e));
    await assert.rejects(loadEdgeConfig(['--bogus'], {}));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('durations', () => {
  assert.equal(parseDuration('24h', 't'), 86_400_000);
  assert.equal(parseDuration('7d', 't'), 7 * 86_400_000);
  assert.throws(() => parseDuration('5s', 't'), /shorter than a minute/);
  assert.throws(() => parseDuration('soon', 't'), /not a duration/);
});
