// `bpfleet sign` / `verify` / `inspect --bundle` end to end with keys made here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packArchive } from '../../archive/pack-archive.js';
import { exampleManifestJson } from '../../manifest/example-manifest.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
let dir: string;

function bpfleet(...args: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: dir });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-cli-sign-'));
  const bytes = await packArchive([
    { path: 'manifest.json', data: Buffer.from(exampleManifestJson()) },
    { path: 'bpf/x86/xdp-firewall.bpf.o', data: Buffer.from('x86 object') },
    { path: 'bpf/arm64/xdp-firewall.bpf.o', data: Buffer.from('arm64 object') },
  ]);
  await writeFile(join(dir, 'fw.bpfleet.tgz'), bytes);
  for (const name of ['pub', 'other']) assert.equal(bpfleet('keys', 'generate', '--name', name).status, 0);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('bpfleet sign and verify', () => {
  it('signs beside the package and verifies with the publisher key', () => {
    const signed = bpfleet('sign', 'fw.bpfleet.tgz', '--key', 'pub.key', '--json');
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(JSON.parse(signed.stdout).bundle, 'fw.bpfleet.sigstore.json');
    const ok = bpfleet('verify', 'fw.bpfleet.tgz', '--key', 'pub.pub', '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).verified, true);
    const inspect = bpfleet('inspect', 'fw.bpfleet.tgz', '--bundle', 'fw.bpfleet.sigstore.json', '--json');
    assert.equal(JSON.parse(inspect.stdout).signer.digestMatches, true);
    const human = bpfleet('inspect', 'fw.bpfleet.tgz', '--bundle', 'fw.bpfleet.sigstore.json');
    assert.match(human.stdout, /\nsigner\n {2}key id +sha256:[0-9a-f]{64}\n/);
    assert.match(
      human.stdout,
      /\n {2}digest +matches the archive\n {2}signature +not checked here \(run bpfleet verify\)/,
    );
    assert.doesNotMatch(human.stdout, /\{"keyId"/, 'no raw JSON in the human view');
  });

  it('fails with the reason for another key, a tampered package, and a missing trust source', async () => {
    bpfleet('sign', 'fw.bpfleet.tgz', '--key', 'pub.key');
    const wrongKey = bpfleet('verify', 'fw.bpfleet.tgz', '--key', 'other.pub', '--json');
    assert.equal(wrongKey.status, 1);
    assert.equal(JSON.parse(wrongKey.stdout).error.code, 'KEY_UNKNOWN');

    const original = await readFile(join(dir, 'fw.bpfleet.tgz'));
    const tampered = await packArchive([
      { path: 'manifest.json', data: Buffer.from(exampleManifestJson()) },
      { path: 'bpf/x86/xdp-firewall.bpf.o', data: Buffer.from('evil object') },
      { path: 'bpf/arm64/xdp-firewall.bpf.o', data: Buffer.from('arm64 object') },
    ]);
    await writeFile(join(dir, 'evil.bpfleet.tgz'), tampered);
    const evil = bpfleet(
      'verify',
      'evil.bpfleet.tgz',
      '--bundle',
      'fw.bpfleet.sigstore.json',
      '--key',
      'pub.pub',
      '--json',
    );
    assert.equal(evil.status, 1);
    assert.equal(JSON.parse(evil.stdout).error.code, 'DIGEST_MISMATCH');
    assert.notDeepEqual(tampered, original);

    assert.equal(bpfleet('verify', 'fw.bpfleet.tgz').status, 2);
  });
});
