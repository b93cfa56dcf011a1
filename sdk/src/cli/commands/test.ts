// `bpfleet test [dir]`: build for this machine, then run the folder's tests.json in the kernel (root).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../compile/build-program.js';
import { runTool } from '../../compile/run-tool.js';
import { findToolchain } from '../../compile/toolchain.js';
import { BuildError, ConfigError } from '../../errors.js';
import { isGplCompatible, parseManifest } from '../../manifest/index.js';
import { runProgramTests } from '../../testing/run-program-tests.js';
import { parseTestFile } from '../../testing/test-file.js';
import { createProgress, EXIT_FAILURE, endProgress, printResult } from '../output.js';

interface TestOptions {
  vmlinux?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('test')
    .description("Run a program folder's tests.json in the kernel through BPF_PROG_TEST_RUN and real traffic")
    .argument('[dir]', 'program folder with manifest.json, *.bpf.c and tests.json', '.')
    .option('--vmlinux <file>', 'a pinned vmlinux.h instead of one generated from this kernel')
    .option('--json', 'print the result as JSON')
    .action(async (dirArg: string, options: TestOptions) => {
      const dir = resolve(dirArg);
      const read = (file: string) =>
        readFile(join(dir, file), 'utf8').catch((err: unknown) => {
          throw new ConfigError('NO_FILE', `test ${dir}: cannot read ${file}`, { cause: err });
        });
      const manifest = parseManifest(await read('manifest.json'));
      const tests = parseTestFile(await read('tests.json'), 'tests.json');
      const progress = createProgress(options);
      const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
      progress(`test ${manifest.name}: building for ${arch}`);
      const toolchain = await findToolchain(runTool);
      const built = await buildProgram(runTool, toolchain, {
        dir,
        manifest,
        arches: [arch],
        isGplCompatible,
        ...(options.vmlinux ? { vmlinux: resolve(options.vmlinux) } : {}),
      }).catch((err: unknown) => {
        endProgress(options);
        if (err instanceof BuildError && err.output) process.stderr.write(err.output);
        throw err;
      });
      if (!built.ok) {
        throw new BuildError(
          'BUILD_FAILED',
          `test ${manifest.name}: ${built.issues.map((i) => i.message).join('; ')}`,
        );
      }
      const object = built.objects[0];
      if (!object || built.objects.length !== 1) {
        throw new BuildError(
          'NOT_SUPPORTED',
          `test ${manifest.name}: tests run against a folder with exactly one *.bpf.c`,
        );
      }
      progress(`test ${manifest.name}: running ${tests.length} tests`);
      const outcomes = await runProgramTests(object.path, manifest, tests);
      endProgress(options);
      const failed = outcomes.filter((o) => !o.ok).length;
      printResult(options, { name: manifest.name, passed: outcomes.length - failed, failed, outcomes }, () =>
        [
          ...outcomes.flatMap((o) => [
            `${o.ok ? 'pass' : 'FAIL'}  ${o.name}`,
            ...o.failures.map((f) => `        ${f}`),
          ]),
          `${manifest.name}: ${outcomes.length - failed} passed, ${failed} failed`,
        ].join('\n'),
      );
      if (failed > 0) process.exitCode = EXIT_FAILURE;
    });
}
