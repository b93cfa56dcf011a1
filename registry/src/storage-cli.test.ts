// bpfleet-edge with storage URLs as an operator meets it: a password in argv exits 2, an unreachable database 1.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '@bpfleet/sdk/test-kit';
import { runEdge } from './testing/edge-launcher.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-pgs-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a database password on the command line exits 2 without echoing it', async () => {
  const run = await runEdge(['--data-dir', dir, '--database', 'postgres://edge:hunter2@127.0.0.1:5432/db']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^bpfleet-edge: --database: secrets are not taken from the command line/);
  assert.doesNotMatch(run.stderr + run.stdout, /hunter2/);
});

test('an unreachable database exits 1 with one line naming it, before any port or admin token', async () => {
  const port = await freePort();
  const run = await runEdge([
    ...['--data-dir', dir, '--port', '0', '--broker-port', String(await freePort())],
    ...['--database', `postgres://edge@127.0.0.1:${port}/bpfleet`],
  ]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(`^bpfleet-edge: catalog postgres://edge@127\\.0\\.0\\.1:${port}/bpfleet: .*ECONNREFUSED`),
  );
  assert.doesNotMatch(run.stdout, /admin token|listening/);
});

test('credentials in an s3 URL exit 2', async () => {
  const run = await runEdge(['--data-dir', dir, '--blobs', 's3://AKIAX:secret@bucket-1']);
  assert.equal(run.code, 2, run.stderr);
  assert.doesNotMatch(run.stderr, /secret@/);
});
