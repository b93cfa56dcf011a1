// Credentials file: 0600, round trip, precedence flag > env > file.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBpfleetError } from '../errors.js';
import { credentialsPath, readCredentials, resolveRegistry, writeCredentials } from './credentials.js';
import { parsePackageRef } from './package-ref.js';

test('credentials are written 0600 and resolved flag > env > file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-cred-'));
  try {
    const env = { XDG_CONFIG_HOME: dir };
    const path = credentialsPath(env);
    assert.equal(path, join(dir, 'bpfleet', 'credentials.json'));
    assert.deepEqual(await readCredentials(path), { registries: {} });
    await assert.rejects(
      resolveRegistry({}, env),
      (e: unknown) => isBpfleetError(e) && e.code === 'REGISTRY_UNSET',
    );
    await writeCredentials(path, {
      registry: 'http://edge:8080',
      registries: { 'http://edge:8080': { token: 'file-token', adminToken: 'file-admin' } },
    });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await resolveRegistry({}, env), {
      url: 'http://edge:8080',
      token: 'file-token',
      adminToken: 'file-admin',
      savedFor: ['http://edge:8080'],
    });
    assert.equal((await resolveRegistry({}, { ...env, BPFLEET_TOKEN: 'env-token' })).token, 'env-token');
    assert.equal(
      (await resolveRegistry({ token: 'flag' }, { ...env, BPFLEET_TOKEN: 'env-token' })).token,
      'flag',
    );
    const other = await resolveRegistry({ registry: 'http://other/' }, env);
    assert.deepEqual(
      other,
      { url: 'http://other', savedFor: ['http://edge:8080'] },
      'tokens of one registry are never sent to another',
    );
    await writeFile(path, '{nope');
    await assert.rejects(
      readCredentials(path),
      (e: unknown) => isBpfleetError(e) && e.code === 'CREDENTIALS_INVALID',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('package refs parse namespace/name[@version]', () => {
  assert.deepEqual(parsePackageRef('acme/xdp-fw'), { namespace: 'acme', name: 'xdp-fw' });
  assert.deepEqual(parsePackageRef('acme/xdp-fw@1.2.0-rc.1'), {
    namespace: 'acme',
    name: 'xdp-fw',
    version: '1.2.0-rc.1',
  });
  for (const bad of ['acme', 'acme/', '/x', 'Acme/x', 'a/b/c', 'a/b@']) {
    assert.throws(
      () => parsePackageRef(bad),
      (e: unknown) => isBpfleetError(e) && e.code === 'INVALID_PACKAGE_REF',
    );
  }
});
