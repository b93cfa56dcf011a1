import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sha256Digest } from '../../digest.js';
import { exampleManifestJson } from '../../manifest/example-manifest.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));
const run = promisify(execFile);
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function bpfleet(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function programFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-cli-'));
  dirs.push(dir);
  await writeFile(join(dir, 'manifest.json'), exampleManifestJson());
  for (const arch of ['x86', 'arm64']) {
    await mkdir(join(dir, 'build/bpf', arch), { recursive: true });
    await writeFile(join(dir, 'build/bpf', arch, 'xdp-firewall.bpf.o'), `object for ${arch}`);
  }
  return dir;
}

test('pack writes <ns>-<name>-<version>.bpfleet.tgz and inspect reads it back', async () => {
  const dir = await programFolder();
  const packed = await bpfleet(['pack', '.', '--json'], dir);
  assert.equal(packed.code, 0, packed.stderr);
  const result = JSON.parse(packed.stdout);
  assert.equal(result.file, join(dir, 'acme-xdp-firewall-1.2.0.bpfleet.tgz'));
  const bytes = await readFile(result.file);
  assert.equal(result.digest, sha256Digest(bytes));
  assert.equal(result.size, bytes.length);

  const inspected = await bpfleet(['inspect', result.file, '--json'], dir);
  assert.equal(inspected.code, 0, inspected.stderr);
  const summary = JSON.parse(inspected.stdout);
  assert.equal(summary.id, 'acme/xdp-firewall@1.2.0');
  assert.equal(summary.digest, result.digest);
  assert.equal(summary.manifestDigest, sha256Digest(exampleManifestJson()));
  assert.deepEqual(summary.files, [
    { path: 'bpf/arm64/xdp-firewall.bpf.o', size: 16 },
    { path: 'bpf/x86/xdp-firewall.bpf.o', size: 14 },
    { path: 'manifest.json', size: Buffer.byteLength(exampleManifestJson()) },
  ]);
  assert.equal(summary.signer, null);

  const human = await bpfleet(['inspect', result.file], dir);
  assert.match(human.stdout, /^acme\/xdp-firewall@1\.2\.0 /);
  assert.match(human.stdout, /bpf\/x86\/xdp-firewall\.bpf\.o +14 bytes/);
});

test('failures exit 1 with a coded error, usage errors exit 2', async () => {
  const dir = await programFolder();
  await writeFile(join(dir, 'manifest.json'), exampleManifestJson({ version: 'one' }));
  const bad = await bpfleet(['pack', '.', '--json'], dir);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.stdout).error.code, 'MANIFEST_INVALID');
  const notGzip = await bpfleet(['inspect', 'manifest.json'], dir);
  assert.equal(notGzip.code, 1);
  assert.match(notGzip.stderr, /\[NOT_GZIP\]/);
  assert.equal((await bpfleet(['pack'], dir)).code, 2);
});
