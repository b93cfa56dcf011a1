// The author's path through the CLI: init → build → test, with exit codes, clang errors as printed and --json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unpackArchive } from '../../archive/index.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));
const run = promisify(execFile);

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

describe('bpfleet init, build, test', () => {
  let work: string;
  let dir: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'bpfleet-author-'));
    dir = join(work, 'edge');
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('init writes the folder; a bad template is a usage error', async () => {
    const init = await bpfleet(['init', 'acme/edge', '--template', 'xdp', '--dir', dir], work);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /created acme\/edge/);
    const bad = await bpfleet(['init', 'acme/other', '--template', 'kprobe'], work);
    assert.equal(bad.code, 2);
  });

  it('build compiles both arches, packs, and reports sizes as JSON', async () => {
    const build = await bpfleet(['build', dir, '--json'], work);
    assert.equal(build.code, 0, build.stderr);
    const result = JSON.parse(build.stdout) as {
      ok: boolean;
      objects: Array<{ arch: string; bytes: number; unstrippedBytes: number }>;
      package: { file: string; digest: string };
    };
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.objects.map((o) => o.arch),
      ['x86', 'arm64'],
    );
    const contents = await unpackArchive(await readFile(result.package.file));
    // The xdp template declares requires.btf "core": the object travels with its minimized BTF. Both arches
    // compile to the same bytes, so the package holds them once, under bpf/any/.
    assert.deepEqual([...contents.files.keys()].sort(), [
      'README.md',
      'bpf/any/edge.bpf.o',
      'bpf/any/edge.min.btf',
      'manifest.json',
    ]);
    assert.equal(contents.archiveDigest, result.package.digest);
  });

  it('test runs tests.json in the kernel and passes', async () => {
    const test = await bpfleet(['test', dir], work);
    assert.equal(test.code, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /acme\/edge: 2 passed, 0 failed/);
  });

  it('test exits 1 and names the failure when an expectation is wrong', async () => {
    const file = join(dir, 'tests.json');
    const tests = JSON.parse(await readFile(file, 'utf8')) as {
      tests: Array<{ expect: { return?: string } }>;
    };
    const original = JSON.stringify(tests);
    if (tests.tests[0]) tests.tests[0].expect.return = 'XDP_DROP';
    await writeFile(file, JSON.stringify(tests));
    try {
      const test = await bpfleet(['test', dir, '--json'], work);
      assert.equal(test.code, 1);
      const result = JSON.parse(test.stdout) as {
        failed: number;
        outcomes: Array<{ ok: boolean; failures: string[] }>;
      };
      assert.equal(result.failed, 1);
      assert.match(
        result.outcomes[0]?.failures[0] ?? '',
        /return: expected XDP_DROP \(1\), got XDP_PASS \(2\)/,
      );
    } finally {
      await writeFile(file, original);
    }
  });

  it('build fails on a manifest that disagrees with the code, naming the variable', async () => {
    const file = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { config: Record<string, unknown> };
    const original = JSON.stringify(manifest);
    manifest.config.max_frame = { type: 'u16', default: 0 };
    await writeFile(file, JSON.stringify(manifest));
    try {
      const build = await bpfleet(['build', dir, '--no-pack'], work);
      assert.equal(build.code, 1);
      assert.match(build.stdout, /error: config max_frame: manifest says u16 but the code has __u32/);
    } finally {
      await writeFile(file, original);
    }
  });

  it('build shows clang errors as clang printed them', async () => {
    const source = join(dir, 'edge.bpf.c');
    const original = await readFile(source, 'utf8');
    await writeFile(source, original.replace('return XDP_PASS;', 'return XDP_PASS'));
    try {
      const build = await bpfleet(['build', dir], work);
      assert.equal(build.code, 1);
      assert.match(build.stderr, /edge\.bpf\.c:\d+:\d+: error: expected ';' after return statement/);
      assert.match(build.stderr, /bpfleet: compile .*edge\.bpf\.c for x86: clang failed \[COMPILE_FAILED\]/);
    } finally {
      await writeFile(source, original);
    }
  });
});
