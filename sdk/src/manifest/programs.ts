// The `programs` section: which functions of the object run, and the attach defaults SEC() cannot say.
import { ManifestError } from '../errors.js';
import { DESCRIPTION, expectArray, FieldReader, IDENTIFIER, joinPath } from './field-reader.js';
import type { AttachDefaults, ProgramDecl } from './types.js';
import { MANIFEST_LIMITS } from './types.js';

// IFNAMSIZ is 16 with the NUL; the kernel refuses '/', ':' and whitespace in names.
const INTERFACE = { max: 15, pattern: /^[^/:\s]+$/, expected: 'an interface name (no /, : or spaces)' };
const CGROUP = {
  max: MANIFEST_LIMITS.maxCgroupPath,
  pattern: /^\/(?!.*(^|\/)\.\.?(\/|$))[^\0]*$/,
  expected: 'an absolute cgroup path without . or .. segments',
};
const TRACEPOINT = { max: 128, pattern: /^[A-Za-z0-9_]+\/[A-Za-z0-9_]+$/, expected: 'category/name' };

function parseAttach(value: unknown, path: string): AttachDefaults {
  const reader = new FieldReader(value, path, {
    optional: ['interface', 'direction', 'cgroup', 'mode', 'tracepoint'],
  });
  const attach: AttachDefaults = {};
  if (reader.has('interface')) attach.interface = reader.string('interface', INTERFACE);
  if (reader.has('direction')) attach.direction = reader.enumOf('direction', ['ingress', 'egress'] as const);
  if (reader.has('cgroup')) attach.cgroup = reader.string('cgroup', CGROUP);
  if (reader.has('mode')) attach.mode = reader.enumOf('mode', ['driver', 'generic'] as const);
  if (reader.has('tracepoint')) attach.tracepoint = reader.string('tracepoint', TRACEPOINT);
  return attach;
}

function parseProgram(value: unknown, path: string): ProgramDecl {
  const reader = new FieldReader(value, path, {
    required: ['name'],
    optional: ['attach', 'load', 'description'],
  });
  const program: ProgramDecl = { name: reader.string('name', IDENTIFIER) };
  if (reader.has('attach')) program.attach = parseAttach(reader.get('attach'), reader.at('attach'));
  if (reader.has('load')) program.load = reader.boolean('load');
  if (reader.has('description')) program.description = reader.string('description', DESCRIPTION);
  // A program shipped but never loaded is code nobody runs: the manifest must say why it is there.
  if (program.load === false && program.description === undefined) {
    throw new ManifestError(
      'DESCRIPTION_REQUIRED',
      reader.at('description'),
      `program ${program.name} has load: false and needs a description saying what it is for`,
    );
  }
  return program;
}

export function parsePrograms(value: unknown, path: string): ProgramDecl[] {
  const list = expectArray(value, path, MANIFEST_LIMITS.maxPrograms, true);
  const seen = new Set<string>();
  return list.map((item, i) => {
    const program = parseProgram(item, joinPath(path, i));
    if (seen.has(program.name)) {
      throw new ManifestError(
        'DUPLICATE',
        `${joinPath(path, i)}.name`,
        `program ${program.name} is declared twice`,
      );
    }
    seen.add(program.name);
    return program;
  });
}
