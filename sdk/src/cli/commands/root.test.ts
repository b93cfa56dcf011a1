// `bpfleet root init/sign/show` end to end: key files in, a root whose thresholds verify out, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeKeyPair } from '../../trust/key-files.js';
import { verifyFirstRoot } from '../../trust/root-chain.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
let dir: string;

function bpfleet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: dir });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-rta-cli-'));
  for (const name of ['r1', 'r2', 'registry', 'op', 'acme']) await writeKeyPair(dir, name);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const init = [
  'root',
  'init',
  '--root-key',
  'r1.pub',
  '--root-key',
  'r2.pub',
  '--root-threshold',
  '2',
  '--registry-key',
  'registry.pub',
  '--operator-key',
  'op.pub',
  '--publisher',
  'acme=acme.pub',
  '--key',
  'r1.key',
  '-o',
  'root.v1.json',
];

describe('bpfleet root', () => {
  it('init signs with one root key; a threshold of 2 verifies only after root sign with the second', async () => {
    const run = bpfleet(...init, '--json');
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { version: number }).version, 1);
    const once = JSON.parse(await readFile(join(dir, 'root.v1.json'), 'utf8'));
    await assert.rejects(verifyFirstRoot(once, new Date()), { code: 'THRESHOLD_NOT_MET' });
    const signed = bpfleet('root', 'sign', 'root.v1.json', '--key', 'r2.key', '--json');
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal((JSON.parse(signed.stdout) as { signedBy: string[] }).signedBy.length, 2);
    const root = await verifyFirstRoot(
      JSON.parse(await readFile(join(dir, 'root.v1.json'), 'utf8')),
      new Date(),
    );
    assert.deepEqual(Object.keys(root.roles.publishers), ['acme']);
    assert.equal(root.roles.root.threshold, 2);
  });

  it('writes the next version with --root-version (not the program version flag)', () => {
    const next = bpfleet(...init.slice(0, -2), '-o', 'root.v2.json', '--root-version', '2', '--json');
    assert.equal(next.status, 0, next.stderr);
    assert.equal((JSON.parse(next.stdout) as { version: number }).version, 2);
  });

  it('refuses a second signature by the same key (exit 1, ALREADY_SIGNED)', () => {
    const again = bpfleet('root', 'sign', 'root.v1.json', '--key', 'r2.key', '--json');
    assert.equal(again.status, 1);
    assert.equal((JSON.parse(again.stdout) as { error: { code: string } }).error.code, 'ALREADY_SIGNED');
  });

  it('shows the agent trust block devices are provisioned with', () => {
    const shown = bpfleet('root', 'show', 'root.v1.json', '--agent-trust');
    assert.equal(shown.status, 0, shown.stderr);
    const { trust } = JSON.parse(shown.stdout) as { trust: { rootKeys: unknown[]; rootThreshold: number } };
    assert.equal(trust.rootKeys.length, 2);
    assert.equal(trust.rootThreshold, 2);
  });

  it('usage mistakes exit 2 and --help has examples', () => {
    assert.equal(bpfleet('root', 'init', '--root-key', 'r1.pub').status, 2);
    const help = bpfleet('root', 'init', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:/);
  });
});
