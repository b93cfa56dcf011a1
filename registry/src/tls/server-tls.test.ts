// The edge's TLS settings: flags, environment and config file (both files or neither), and the pair checked at start.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import { loadEdgeConfig } from '../config.js';
import { readServerTls } from './server-tls.js';
import { createServerPki } from './testing/server-pki.js';

const dir = await mkdtemp(join(tmpdir(), 'bpfleet-tls-config-'));
after(() => rm(dir, { recursive: true, force: true }));
const code = (c: string) => (err: unknown) => isBpfleetError(err) && err.code === c;

test('--tls-cert/--tls-key, BPFLEET_EDGE_TLS_* and the file tls section set the files; without them: plain', async () => {
  assert.equal((await loadEdgeConfig([], {})).tls, undefined);
  const fromFlags = await loadEdgeConfig(['--tls-cert', '/a.crt', '--tls-key', '/a.key'], {});
  assert.deepEqual(fromFlags.tls, { certFile: '/a.crt', keyFile: '/a.key' });
  const fromEnv = await loadEdgeConfig([], {
    BPFLEET_EDGE_TLS_CERT: '/e.crt',
    BPFLEET_EDGE_TLS_KEY: '/e.key',
  });
  assert.deepEqual(fromEnv.tls, { certFile: '/e.crt', keyFile: '/e.key' });
  const file = join(dir, 'edge.json');
  await writeFile(file, JSON.stringify({ tls: { cert: '/f.crt', key: '/f.key' } }));
  const fromFile = await loadEdgeConfig(['--config', file, '--tls-key', '/flag.key'], {});
  assert.deepEqual(fromFile.tls, { certFile: '/f.crt', keyFile: '/flag.key' });
});

test('a certificate without its key (or the reverse) is refused', async () => {
  await assert.rejects(loadEdgeConfig(['--tls-cert', '/a.crt'], {}), code('CONFIG_INVALID'));
  await assert.rejects(loadEdgeConfig([], { BPFLEET_EDGE_TLS_KEY: '/k' }), code('CONFIG_INVALID'));
});

test('the pair is read and checked at start: unreadable, or a key of another certificate, is one clear error', async () => {
  const a = await createServerPki(['127.0.0.1']);
  const b = await createServerPki(['127.0.0.1']);
  const put = async (name: string, text: string) => {
    await writeFile(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const certFile = await put('a.crt', a.certPem);
  const keyFile = await put('a.key', a.keyPem);
  assert.deepEqual(await readServerTls({ certFile, keyFile }), { cert: a.certPem, key: a.keyPem });
  await assert.rejects(
    readServerTls({ certFile, keyFile: join(dir, 'absent.key') }),
    code('TLS_FILE_UNREADABLE'),
  );
  const wrongKey = await put('b.key', b.keyPem);
  await assert.rejects(readServerTls({ certFile, keyFile: wrongKey }), (err: unknown) => {
    assert.ok(code('TLS_PAIR_INVALID')(err));
    assert.match((err as Error).message, /^tls .*a\.crt \+ .*b\.key: /);
    return true;
  });
});
