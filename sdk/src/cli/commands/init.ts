// `bpfleet init <name> --template <t>`: a new program folder from a template.
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { BuildError } from '../../errors.js';
import { createProgram, isTemplateId } from '../../scaffold/create-program.js';
import { TEMPLATE_IDS } from '../../scaffold/program-template.js';
import { printResult } from '../output.js';

interface InitOptions {
  template: string;
  dir?: string;
  arch?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('Create a micro-program folder: C source, manifest, tests and README')
    .argument('<name>', 'package name, namespace/name (acme/edge-count)')
    .addOption(
      new Option('-t, --template <template>', 'the kind of program')
        .choices(TEMPLATE_IDS)
        .makeOptionMandatory(),
    )
    .option('-d, --dir <dir>', 'folder to create (default: ./<name without namespace>)')
    .option('--arch <arches>', 'comma-separated target arches (default: x86,arm64)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: InitOptions) => {
      if (!isTemplateId(options.template)) {
        throw new BuildError(
          'UNKNOWN_TEMPLATE',
          `init ${name}: unknown template "${options.template}" (one of ${TEMPLATE_IDS.join(', ')})`,
        );
      }
      const dir = resolve(options.dir ?? name.split('/').pop() ?? name);
      const created = await createProgram({
        name,
        template: options.template,
        dir,
        ...(options.arch ? { arches: options.arch.split(',') } : {}),
      });
      printResult(options, created, () =>
        [
          `created ${name} in ${dir}:`,
          ...created.files.map((f) => `  ${f}`),
          '',
          `next: bpfleet build ${dir}`,
        ].join('\n'),
      );
    });
}
