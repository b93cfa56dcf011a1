// Config precedence (defaults < file < env < flags) and refusal of bad values.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import { loadEdgeConfig, parseDuration } from './config.js';

const STRONG = `bpfa_${randomBytes(32).toString('base64url')}`;

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
      BPFLEET_EDGE_ADMIN_TOKEN: STRONG,
    });
    assert.equal(fromEnv.port, 9100);
    assert.equal(fromEnv.adminToken, STRONG);
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
  assert.throws(() => parseDuration('5s', 't'), /t: 5s is shorter than 1m/);
  assert.throws(() => parseDuration('86400000', 't'), /t: "86400000" has no unit/);
  assert.throws(() => parseDuration('soon', 't'), /not a duration/);
});

test('secrets come from files or the environment, never argv; files readable by others are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hbh-config-'));
  try {
    const broker = ['--broker', 'mqtt://127.0.0.1:1883', '--broker-username', 'ctl'];
    const passwordFile = join(dir, 'broker-password');
    await writeFile(passwordFile, 's3cret-from-file\n', { mode: 0o600 });
    const fromFile = await loadEdgeConfig([...broker, '--broker-password-file', passwordFile], {});
    assert.equal(fromFile.broker?.password, 's3cret-from-file');
    const fromEnvFile = await loadEdgeConfig(broker, { BPFLEET_EDGE_BROKER_PASSWORD_FILE: passwordFile });
    assert.equal(fromEnvFile.broker?.password, 's3cret-from-file');
    const fromEnv = await loadEdgeConfig(broker, { BPFLEET_EDGE_BROKER_PASSWORD: 'from-env' });
    assert.equal(fromEnv.broker?.password, 'from-env');
    await assert.rejects(
      loadEdgeConfig(broker, {}),
      /--broker-password-file or BPFLEET_EDGE_BROKER_PASSWORD/,
    );
    await assert.rejects(loadEdgeConfig([...broker, '--broker-password', 'x'], {}), (e: unknown) => {
      assert.ok(isBpfleetError(e) && e.code === 'USAGE');
      assert.match((e as Error).message, /not taken from the command line/);
      return true;
    });

    const tokenFile = join(dir, 'admin-token');
    await writeFile(tokenFile, `${STRONG}\n`, { mode: 0o600 });
    assert.equal((await loadEdgeConfig(['--admin-token-file', tokenFile], {})).adminToken, STRONG);
    const config = join(dir, 'edge.json');
    await writeFile(
      config,
      JSON.stringify({
        adminTokenFile: tokenFile,
        broker: { url: 'mqtt://h:1', username: 'u', passwordFile },
      }),
    );
    const fromConfig = await loadEdgeConfig(['--config', config], {});
    assert.equal(fromConfig.adminToken, STRONG);
    assert.equal(fromConfig.broker?.password, 's3cret-from-file');
    await chmod(tokenFile, 0o604);
    await assert.rejects(loadEdgeConfig(['--admin-token-file', tokenFile], {}), /readable by other users/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('admin tokens: random ones of 32+ characters pass, short, repeated or patterned ones are refused', async () => {
  for (let i = 0; i < 200; i++) {
    for (const token of [
      randomBytes(24).toString('base64url'),
      `bpa_${randomBytes(24).toString('hex')}`,
      STRONG,
    ]) {
      assert.equal((await loadEdgeConfig([], { BPFLEET_EDGE_ADMIN_TOKEN: token })).adminToken, token);
    }
  }
  for (const weak of [
    't',
    'x'.repeat(31),
    'ab'.repeat(20),
    'password'.repeat(4),
    '0123456789abcdef'.repeat(2),
  ]) {
    await assert.rejects(loadEdgeConfig([], { BPFLEET_EDGE_ADMIN_TOKEN: weak }), (e: unknown) => {
      assert.ok(isBpfleetError(e) && e.code === 'ADMIN_TOKEN_WEAK', weak);
      return true;
    });
  }
});
