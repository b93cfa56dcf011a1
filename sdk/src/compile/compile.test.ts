// The compile pipeline against the real clang, llvm-strip and bpftool: objects, BTF facts, license and agreement checks.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readElfSections, readHelperCalls, readLicense } from '../elf/index.js';
import type { BuildError } from '../errors.js';
import { type BuildManifest, buildProgram } from './build-program.js';
import { isKernelGplLicense } from './license-check.js';
import { runTool } from './run-tool.js';
import { findToolchain, parseClangVersion, type Toolchain } from './toolchain.js';

const SOURCE = `// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "LICENSE_STRING";
const volatile __u32 limit = 5;
const volatile __s16 offset = -1;
const volatile __u8 peer[6] = {};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} hits SEC(".maps");
SEC("xdp")
int count_hits(struct xdp_md *ctx)
{
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&hits, &key);
  if (v && limit > 0 && offset < 0 && peer[0] == 0)
    (*v)++;
  EXTRA
  return XDP_PASS;
}
`;

const gplCompatible = isKernelGplLicense;

function manifest(overrides: Partial<BuildManifest> = {}): BuildManifest {
  return {
    name: 'test/hits',
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'count_hits' }],
    config: { limit: { type: 'u32' }, offset: { type: 's16' }, peer: { type: 'mac' } },
    maps: { hits: {} },
    requires: { arches: ['x86', 'arm64'] },
    ...overrides,
  };
}

describe('compile', () => {
  let dir: string;
  let toolchain: Toolchain;
  const write = (license: string, extra = '') =>
    writeFile(join(dir, 'hits.bpf.c'), SOURCE.replace('LICENSE_STRING', license).replace('EXTRA', extra));
  const build = (m: BuildManifest) =>
    buildProgram(runTool, toolchain, { dir, manifest: m, isGplCompatible: gplCompatible });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpfleet-compile-'));
    await writeFile(join(dir, 'manifest.json'), '{}');
    toolchain = await findToolchain(runTool);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads clang versions in their usual forms', () => {
    assert.equal(parseClangVersion('Debian clang version 14.0.6\nTarget: x86_64'), '14.0.6');
    assert.equal(parseClangVersion('Apple clang version 15.0.0 (clang-1500.1.0.2.5)'), '15.0.0');
    assert.equal(parseClangVersion('gcc (Debian 12.2.0-14) 12.2.0'), undefined);
  });

  it('refuses a clang older than 14 with a clear message', async () => {
    const old = async () => ({ code: 0, stdout: 'clang version 11.0.1\n', stderr: '' });
    await assert.rejects(findToolchain(old), (err: BuildError) => {
      assert.equal(err.code, 'TOOL_TOO_OLD');
      assert.match(err.message, /clang 11\.0\.1 is too old: bpfleet needs clang 14/);
      return true;
    });
  });

  it('builds one stripped object per arch that keeps BTF, and finds no issue when all agree', async () => {
    await write('GPL');
    const result = await build(manifest());
    assert.deepEqual(result.issues, []);
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.objects.map((o) => o.arch),
      ['x86', 'arm64'],
    );
    // A counter touches no arch-specific type: both objects come out the same and the package holds one.
    assert.deepEqual(result.any, ['x86', 'arm64']);
    assert.deepEqual(Object.keys(result.files).sort(), ['bpf/any/hits.bpf.o', 'manifest.json']);
    for (const object of result.objects) {
      assert.ok(object.bytes < object.unstrippedBytes, 'DWARF stripped');
      const names = readElfSections(await readFile(object.path)).sections.map((s) => s.name);
      assert.ok(names.includes('.BTF') && names.includes('.BTF.ext'), 'BTF kept');
      assert.ok(!names.some((n) => n.startsWith('.debug_')), 'no DWARF left');
    }
  });

  it('names config variables, maps and programs that differ between manifest and code', async () => {
    await write('GPL');
    const result = await build(
      manifest({
        programs: [{ name: 'count_hits' }, { name: 'gone' }],
        config: { limit: { type: 'u64' }, offset: { type: 'u16' }, missing: { type: 'u8' } },
        maps: { hits: { layout: { key: 'u64', value: 'u64' } }, ghosts: {} },
      }),
    );
    assert.equal(result.ok, false);
    const byCode = result.issues.map((i) => `${i.code} ${i.message.split(':')[0]}`).sort();
    assert.deepEqual(byCode, [
      'CONFIG_MISSING_IN_CODE config missing',
      'CONFIG_MISSING_IN_MANIFEST config peer',
      'CONFIG_TYPE_MISMATCH config limit',
      'CONFIG_TYPE_MISMATCH config offset',
      'MAP_LAYOUT_MISMATCH map hits',
      'MAP_MISSING_IN_CODE map ghosts',
      'PROGRAM_MISSING_IN_CODE program gone',
    ]);
    assert.match(
      result.issues.find((i) => i.message.startsWith('config offset'))?.message ?? '',
      /signedness/,
    );
  });

  it('refuses an event stream on a map that is not a ring buffer (the type the code declares)', async () => {
    await write('GPL');
    const result = await build(manifest({ maps: { hits: { events: { record: 'u64' } } } }));
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.issues.filter((i) => i.severity === 'error').map((i) => i.code),
      ['EVENTS_NOT_RINGBUF'],
    );
    assert.match(
      result.issues[0]?.message ?? '',
      /map hits: .* map type is 2, not BPF_MAP_TYPE_RINGBUF \(27\)/,
    );
  });

  it('warns about a map the manifest does not describe', async () => {
    await write('GPL');
    const result = await build(manifest({ maps: {} }));
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.issues.map((i) => [i.severity, i.code]),
      [['warning', 'MAP_MISSING_IN_MANIFEST']],
    );
  });

  it('checks the license section against the manifest and GPL-only helpers', async () => {
    await write('Dual MIT/GPL');
    assert.deepEqual(
      (await build(manifest({ license: 'MIT' }))).issues.map((i) => i.code),
      ['LICENSE_MISMATCH'],
    );

    const probe = 'char buf[4]; bpf_probe_read_kernel(buf, sizeof(buf), ctx);';
    await write('Proprietary', probe);
    const result = await build(manifest({ license: 'Proprietary', requires: { arches: ['x86'] } }));
    assert.deepEqual(
      result.issues.map((i) => i.code),
      ['GPL_ONLY_HELPERS'],
    );
    assert.match(result.issues[0]?.message ?? '', /bpf_probe_read_kernel/);

    const elf = readElfSections(await readFile(join(dir, 'build', 'bpf', 'x86', 'hits.bpf.o')));
    assert.equal(readLicense(elf), 'Proprietary');
    assert.ok(
      readHelperCalls(elf).has(1) && readHelperCalls(elf).has(113),
      'map_lookup_elem and probe_read_kernel',
    );
  });

  it('passes clang errors through as clang printed them', async () => {
    await writeFile(join(dir, 'hits.bpf.c'), '#include "vmlinux.h"\nint broken( { return 0; }\n');
    await assert.rejects(build(manifest()), (err: BuildError) => {
      assert.equal(err.code, 'COMPILE_FAILED');
      assert.match(err.output, /hits\.bpf\.c:2:\d+: error: /);
      return true;
    });
  });
});
