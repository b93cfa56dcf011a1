// Unit tests: a package's minimized BTF files (`bpf/<arch>/<name>.min.btf`) beside its objects, and `btf: "core"`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArchiveError } from '../errors.js';
import { exampleManifest } from '../manifest/example-manifest.js';
import { packArchive } from './pack-archive.js';
import { toPackageContents } from './package-contents.js';
import { validFiles } from './tar-fixtures.js';
import { unpackArchive } from './unpack-archive.js';

const X86_BTF = Buffer.from('x86 min btf');
const ARM_BTF = Buffer.from('arm64 min btf');

function files(btf: boolean | 'core', extra: Record<string, Buffer>): Map<string, Buffer> {
  const manifest = exampleManifest();
  manifest.requires.btf = btf;
  const out = new Map<string, Buffer>(validFiles().map((f) => [f.path, Buffer.from(f.data)]));
  out.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  for (const [path, data] of Object.entries(extra)) out.set(path, data);
  return out;
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as ArchiveError).code;
  }
  return 'none';
};

test('btf "core": each arch gets the BTF beside its own object; packing and unpacking keep it', async () => {
  const both = { 'bpf/x86/xdp-firewall.min.btf': X86_BTF, 'bpf/arm64/xdp-firewall.min.btf': ARM_BTF };
  const contents = toPackageContents(files('core', both), 'test');
  assert.deepEqual(contents.btf('x86'), X86_BTF);
  assert.deepEqual(contents.btf('arm64'), ARM_BTF);
  const packed = await packArchive([...files('core', both)].map(([path, data]) => ({ path, data })));
  assert.deepEqual((await unpackArchive(packed)).btf('arm64'), ARM_BTF);
});

test('btf "core" without a BTF file for every object, or a BTF file without its object, is refused', () => {
  assert.equal(
    code(() => toPackageContents(files('core', { 'bpf/x86/xdp-firewall.min.btf': X86_BTF }), 't')),
    'BTF_MISSING',
  );
  assert.equal(
    code(() => toPackageContents(files(true, { 'bpf/riscv/x.min.btf': X86_BTF }), 't')),
    'BTF_WITHOUT_OBJECT',
  );
  const two = { 'bpf/x86/a.min.btf': X86_BTF, 'bpf/x86/b.min.btf': X86_BTF };
  assert.equal(
    code(() => toPackageContents(files(true, two), 't')),
    'MULTIPLE_BTF',
  );
  // Other names beside an object stay outside the format.
  assert.equal(
    code(() => toPackageContents(files(true, {}), 't')),
    'none',
  );
  assert.equal(toPackageContents(files(true, {}), 't').btf('x86'), undefined);
});
