// `bpfleet build` against the real clang and libbpf: a program the manifest does not list fails the build, and
// so does a section libbpf cannot load, in libbpf's words; `load: false` with a description accounts for one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../bpf/testing/fixtures.js';
import { type BuildManifest, buildProgram } from './build-program.js';
import { isKernelGplLicense } from './license-check.js';
import { runTool } from './run-tool.js';
import { findToolchain, type Toolchain } from './toolchain.js';

const TESTDATA = join(ROOT, 'sdk', 'src', 'bpf', 'testdata');

function manifest(programs: BuildManifest['programs']): BuildManifest {
  return { name: 'h1c/set', version: '1.0.0', license: 'GPL', programs, requires: { arches: ['x86'] } };
}

describe('build: the manifest accounts for every program', () => {
  let dir: string;
  let toolchain: Toolchain;
  const use = async (source: string) => {
    await rm(join(dir, 'prog.bpf.c'), { force: true });
    await copyFile(join(TESTDATA, source), join(dir, 'prog.bpf.c'));
  };
  const build = (m: BuildManifest) =>
    buildProgram(runTool, toolchain, { dir, manifest: m, isGplCompatible: isKernelGplLicense });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h1c-build-'));
    toolchain = await findToolchain(runTool);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('fails on an unlisted raw_tp/sys_enter program beside the listed XDP one, naming it', async () => {
    await use('hidden_raw_tp.bpf.c');
    const result = await build(manifest([{ name: 'h1c_visible' }]));
    assert.equal(result.ok, false);
    const errors = result.issues.filter((i) => i.severity === 'error');
    assert.deepEqual(
      errors.map((i) => i.code),
      ['PROGRAM_UNDECLARED'],
    );
    assert.match(
      errors[0]?.message ?? '',
      /^build h1c\/set@1\.0\.0: bpf\/x86: the object holds a program .*: h1c_hidden/,
    );
  });

  it('passes when the extra program is listed with load: false and a description', async () => {
    await use('hidden_raw_tp.bpf.c');
    const result = await build(manifest([{ name: 'h1c_visible' }, { name: 'h1c_hidden', load: false }]));
    assert.deepEqual(
      result.issues.filter((i) => i.severity === 'error'),
      [],
    );
    assert.equal(result.ok, true);
  });

  it('fails on a section libbpf does not recognise, with libbpf words; a load: false one only warns', async () => {
    await use('unknown_section.bpf.c');
    const listed = await build(manifest([{ name: 'h1c_known' }, { name: 'h1c_unknown_sec' }]));
    assert.equal(listed.ok, false);
    const issue = listed.issues.find((i) => i.code === 'SECTION_UNKNOWN');
    assert.equal(issue?.severity, 'error');
    assert.match(
      issue?.message ?? '',
      /^bpf\/x86\/prog\.bpf\.o: libbpf: prog 'h1c_unknown_sec': unrecognized ELF section name 'xdp_bogus\/h1c'/,
    );
    const notLoaded = await build(
      manifest([{ name: 'h1c_known' }, { name: 'h1c_unknown_sec', load: false }]),
    );
    assert.equal(notLoaded.ok, true);
    assert.equal(notLoaded.issues.find((i) => i.code === 'SECTION_UNKNOWN')?.severity, 'warning');
  });

  it('the bpfleet build command exits non-zero and prints FAILED with the reason, not "built"', async () => {
    await use('unknown_section.bpf.c');
    const json = {
      ...manifest([{ name: 'h1c_known' }, { name: 'h1c_unknown_sec' }]),
      requires: { arches: ['x86'] },
    };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(json));
    const cli = join(ROOT, 'sdk', 'dist', 'cli', 'main.js');
    const run = spawnSync(process.execPath, [cli, 'build', dir, '--no-pack'], { encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stdout, /h1c\/set@1\.0\.0: FAILED/);
    assert.match(run.stdout, /unrecognized ELF section name 'xdp_bogus\/h1c'.*\[SECTION_UNKNOWN\]/);
  });
});
