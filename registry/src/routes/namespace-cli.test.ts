// `bpfleet namespace create|list|add-key|token` against a served registry.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@bpfleet/sdk/errors'))), 'cli', 'main.js');
const run = promisify(execFile);
let dir: string;
let fx: RegistryFixture;
let served: ServedFixture;

async function bpfleet(token: string, ...args: string[]) {
  try {
    const { stdout } = await run(
      process.execPath,
      [CLI, ...args, '--registry', served.url, '--token', token, '--json'],
      {
        env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_CONFIG_HOME: dir },
        cwd: dir,
      },
    );
    return { code: 0, out: JSON.parse(stdout) as Record<string, unknown> };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: JSON.parse(e.stdout || '{}') as Record<string, unknown> };
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-ns-cli-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  served = await serveFixture(fx);
  await run(process.execPath, [CLI, 'keys', 'generate', '--name', 'acme', '--out', dir]);
});
after(async () => {
  await served.close();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

it('creates a namespace, trusts a publisher key and issues a publish token', async () => {
  assert.equal((await bpfleet(fx.adminToken, 'namespace', 'create', 'acme')).code, 0);
  const added = await bpfleet(fx.adminToken, 'namespace', 'add-key', 'acme', join(dir, 'acme.pub'));
  assert.equal(added.code, 0);
  assert.match(String(added.out.keyId), /^sha256:[0-9a-f]{64}$/);
  const issued = await bpfleet(fx.adminToken, 'namespace', 'token', 'acme', '--label', 'ci');
  assert.equal(issued.code, 0);
  assert.ok(String(issued.out.token).length > 20);
  const listed = await bpfleet(fx.adminToken, 'namespace', 'list');
  assert.deepEqual(
    (listed.out as unknown as Array<{ name: string }>).map((n) => n.name),
    ['acme'],
  );
});

it('refuses without the admin token, with the reason', async () => {
  const refused = await bpfleet('bpfa_wrong', 'namespace', 'create', 'other');
  assert.equal(refused.code, 1);
  assert.equal((refused.out.error as { code: string }).code, 'UNAUTHORIZED');
});
