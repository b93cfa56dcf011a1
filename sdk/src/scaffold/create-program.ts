// `bpfleet init`: writes a program folder (C source, manifest, tests, README) from a template.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { ProgramTemplate, TemplateId, TemplateNames } from './program-template.js';
import { TEMPLATE_IDS } from './program-template.js';
import { cgroupSkbTemplate } from './templates/cgroup-skb.js';
import { sockopsTemplate } from './templates/sockops.js';
import { tcxTemplate } from './templates/tcx.js';
import { tracepointTemplate } from './templates/tracepoint.js';
import { xdpTemplate } from './templates/xdp.js';

export const TEMPLATES: Readonly<Record<TemplateId, ProgramTemplate>> = {
  xdp: xdpTemplate,
  tcx: tcxTemplate,
  'cgroup-skb': cgroupSkbTemplate,
  sockops: sockopsTemplate,
  tracepoint: tracepointTemplate,
};

export function isTemplateId(value: string): value is TemplateId {
  return (TEMPLATE_IDS as readonly string[]).includes(value);
}

const NAME = /^([a-z0-9][a-z0-9-]*)\/([a-z][a-z0-9-]*)$/;

/** `acme/edge-count` → file `edge-count`, C identifier `edge_count`. */
export function templateNames(packageName: string): TemplateNames {
  const match = NAME.exec(packageName);
  if (!match) {
    throw new BuildError(
      'BAD_NAME',
      `init ${packageName}: a program name is namespace/name in lowercase letters, digits and dashes (acme/edge-count)`,
    );
  }
  const fileName = match[2] as string;
  return { packageName, fileName, cName: fileName.replaceAll('-', '_') };
}

export interface CreateProgramOptions {
  /** `namespace/name`. */
  name: string;
  template: TemplateId;
  /** The folder to create; must not exist or be empty. */
  dir: string;
  arches?: string[];
}

export interface CreatedProgram {
  dir: string;
  files: string[];
}

function readme(names: TemplateNames, template: ProgramTemplate, manifest: Record<string, unknown>): string {
  const maps = Object.keys((manifest.maps as Record<string, unknown>) ?? {});
  const config = Object.entries(
    (manifest.config as Record<string, { type: string; description?: string }>) ?? {},
  );
  return `# ${names.packageName}

A bpfleet micro-program (template \`${template.id}\`): ${template.summary}.

## Config

${config.length === 0 ? 'None.' : config.map(([k, v]) => `- \`${k}\` (${v.type}): ${v.description ?? ''}`).join('\n')}

## Maps and metrics

${maps.map((m) => `- \`${m}\``).join('\n')}

## Develop

\`\`\`sh
bpfleet build .      # compile for every arch in manifest.json, check manifest against the code
bpfleet test .       # run tests.json in the kernel (as root)
\`\`\`
`;
}

export async function createProgram(options: CreateProgramOptions): Promise<CreatedProgram> {
  const names = templateNames(options.name);
  const template = TEMPLATES[options.template];
  const existing = await readdir(options.dir).catch(() => []);
  if (existing.length > 0) {
    throw new BuildError('DIR_NOT_EMPTY', `init ${options.name}: ${options.dir} exists and is not empty`);
  }
  const parts = template.manifest(names);
  const requires = { arches: options.arches ?? ['x86', 'arm64'], btf: true, ...(parts.requires as object) };
  const manifest = {
    name: names.packageName,
    version: '0.1.0',
    description: template.summary.replace(/^./, (c) => c.toUpperCase()).replaceAll('`', ''),
    license: 'Dual BSD/GPL',
    ...parts,
    requires,
  };
  const files: Record<string, string> = {
    [`${names.fileName}.bpf.c`]: template.source(names),
    'manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'tests.json': `${JSON.stringify(template.tests(names), null, 2)}\n`,
    'README.md': readme(names, template, manifest),
    '.gitignore': 'build/\n',
  };
  await mkdir(options.dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(options.dir, file), text);
  return { dir: options.dir, files: Object.keys(files) };
}
