// Every init template builds for x86 and arm64 with no manifest/code issue, loads, and passes its own tests.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildProgram } from '../compile/build-program.js';
import { runTool } from '../compile/run-tool.js';
import { findToolchain, type Toolchain } from '../compile/toolchain.js';
import { BuildError } from '../errors.js';
import { isGplCompatible, parseManifest } from '../manifest/index.js';
import { runProgramTests } from '../testing/run-program-tests.js';
import { parseTestFile } from '../testing/test-file.js';
import { createProgram, templateNames } from './create-program.js';
import { TEMPLATE_IDS } from './program-template.js';

describe('init templates', () => {
  let work: string;
  let toolchain: Toolchain;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'bpfleet-init-'));
    toolchain = await findToolchain(runTool);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('derives file and C names from the package name, and refuses bad names', () => {
    assert.deepEqual(templateNames('acme/edge-count'), {
      packageName: 'acme/edge-count',
      fileName: 'edge-count',
      cName: 'edge_count',
    });
    assert.throws(() => templateNames('EdgeCount'), BuildError);
    assert.throws(() => templateNames('acme/1abc'), BuildError);
  });

  it('refuses to write into a folder that is not empty', async () => {
    const dir = join(work, 'twice');
    await createProgram({ name: 'acme/twice', template: 'xdp', dir });
    await assert.rejects(createProgram({ name: 'acme/twice', template: 'xdp', dir }), /not empty/);
  });

  for (const template of TEMPLATE_IDS) {
    it(`${template}: init, build, load and pass its own tests`, async () => {
      const dir = join(work, template);
      const created = await createProgram({ name: `acme/t-${template}`, template, dir });
      assert.deepEqual(created.files.sort(), [
        '.gitignore',
        'README.md',
        'manifest.json',
        `t-${template}.bpf.c`,
        'tests.json',
      ]);
      const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
      for (const [name, decl] of Object.entries(manifest.maps ?? {})) {
        if (decl.metrics?.some((m) => m.type === 'counter'))
          assert.equal(decl.persist, true, `${name}: counters must survive an upgrade`);
      }
      const testsText = await readFile(join(dir, 'tests.json'), 'utf8');
      assert.ok(parseTestFile(testsText, 'tests.json').length > 0, 'the template comes with a test');

      const result = await buildProgram(runTool, toolchain, { dir, manifest, isGplCompatible });
      assert.deepEqual(result.issues, []);
      assert.deepEqual(
        result.objects.map((o) => o.arch),
        ['x86', 'arm64'],
      );

      // Loading each test's collection runs the verifier; then the template's own tests must pass.
      const outcomes = await runProgramTests(
        result.objects[0]?.path ?? '',
        manifest,
        parseTestFile(testsText, 'tests.json'),
      );
      assert.deepEqual(
        outcomes.filter((o) => !o.ok),
        [],
      );
    });
  }
});
