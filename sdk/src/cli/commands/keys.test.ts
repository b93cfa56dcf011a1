// `bpfleet keys generate` end to end: files, modes, JSON output, refusal to overwrite, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keyIdOf } from '../../trust/keys.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
let dir: string;

function bpfleet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: dir });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-cli-keys-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bpfleet keys generate', () => {
  it('writes a 0600 private key and a public key, and prints their id and paths as JSON', async () => {
    const run = bpfleet('keys', 'generate', '--name', 'acme', '--out', 'keys', '--json');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { keyId: string; privateKeyPath: string; publicKeyPath: string };
    assert.deepEqual(out, {
      keyId: out.keyId,
      privateKeyPath: join('keys', 'acme.key'),
      publicKeyPath: join('keys', 'acme.pub'),
    });
    assert.equal((await stat(join(dir, out.privateKeyPath))).mode & 0o777, 0o600);
    assert.equal(keyIdOf(await readFile(join(dir, out.publicKeyPath), 'utf8')), out.keyId);
  });

  it('prints human text by default, with the default name', () => {
    const run = bpfleet('keys', 'generate');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^key id +sha256:[0-9a-f]{64}\nprivate key +bpfleet\.key \(mode 0600/);
  });

  it('refuses to overwrite (exit 1, KEY_FILE_EXISTS) and rejects bad names', () => {
    const again = bpfleet('keys', 'generate', '--name', 'acme', '--out', 'keys', '--json');
    assert.equal(again.status, 1);
    assert.equal(JSON.parse(again.stdout).error.code, 'KEY_FILE_EXISTS');
    const text = bpfleet('keys', 'generate', '--name', 'acme', '--out', 'keys');
    assert.equal(text.status, 1);
    assert.match(text.stderr, /already exists; not overwriting it \[KEY_FILE_EXISTS\]/);
    assert.equal(bpfleet('keys', 'generate', '--name', '../x').status, 1);
  });

  it('exits 2 on usage errors', () => {
    assert.equal(bpfleet('keys', 'generate', '--nope').status, 2);
    assert.equal(bpfleet('keys', 'generate', '--name').status, 2);
  });
});
