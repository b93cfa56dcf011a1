// One source of truth: the manifest's config variables, maps and programs must be the ones the code has.

import { type FieldLayout, layoutFields } from '../manifest/index.js';
import type { BuildIssue } from './build-issue.js';
import type { BtfMap, BtfMapType, BtfVariable, ObjectBtf } from './object-btf.js';

/** The parts of a manifest the build checks (a structural subset of the manifest module's `Manifest`). */
export interface ManifestDeclarations {
  programs: ReadonlyArray<{ name: string; load?: boolean }>;
  config?: Readonly<Record<string, { type: string; size?: number }>>;
  maps?: Readonly<Record<string, { layout?: { key: FieldLayout; value: FieldLayout }; events?: unknown }>>;
}

const BPF_MAP_TYPE_RINGBUF = 27;

const INT_TYPE = /^([us])(8|16|32|64)$/;
const FIXED_SIZES: Record<string, number> = { bool: 1, ipv4: 4, ipv6: 16, mac: 6 };

/** The byte size a manifest type needs in .rodata, or undefined for an unknown type. */
export function declaredSize(decl: { type: string; size?: number }): number | undefined {
  const int = INT_TYPE.exec(decl.type);
  if (int) return Number(int[2]) / 8;
  if (decl.type === 'bytes') return decl.size;
  return FIXED_SIZES[decl.type];
}

function describe(v: BtfVariable): string {
  const type = v.typeName ? `${v.typeName}, ` : '';
  if (v.kind === 'int') return `${type}${v.signed ? 'signed' : 'unsigned'} ${v.size}-byte int`;
  return `${type}${v.kind} of ${v.size} bytes`;
}

function checkConfigType(name: string, decl: { type: string; size?: number }, v: BtfVariable): BuildIssue[] {
  const size = declaredSize(decl);
  const issue = (why: string): BuildIssue[] => [
    {
      severity: 'error',
      code: 'CONFIG_TYPE_MISMATCH',
      message: `config ${name}: manifest says ${decl.type}${decl.type === 'bytes' ? `[${decl.size}]` : ''} but the code has ${describe(v)}${why}`,
    },
  ];
  if (size === undefined) return issue(' (unknown manifest type or bytes without size)');
  if (size !== v.size) return issue('');
  const int = INT_TYPE.exec(decl.type);
  if (int && v.kind !== 'int' && v.kind !== 'enum') return issue('');
  if (int && v.kind === 'int' && (int[1] === 's') !== v.signed) return issue(' (signedness differs)');
  if (decl.type === 'bool' && v.kind !== 'bool' && v.kind !== 'int') return issue('');
  return [];
}

export function checkDeclarations(manifest: ManifestDeclarations, btf: ObjectBtf): BuildIssue[] {
  const issues: BuildIssue[] = [];
  const config = manifest.config ?? {};
  const codeVars = new Map(btf.config.map((v) => [v.name, v]));
  for (const [name, decl] of Object.entries(config)) {
    const v = codeVars.get(name);
    if (!v) {
      issues.push({
        severity: 'error',
        code: 'CONFIG_MISSING_IN_CODE',
        message: `config ${name}: in the manifest but the code has no const volatile global of that name`,
      });
    } else issues.push(...checkConfigType(name, decl, v));
  }
  for (const v of btf.config) {
    if (!(v.name in config)) {
      issues.push({
        severity: 'error',
        code: 'CONFIG_MISSING_IN_MANIFEST',
        message: `config ${v.name}: a const volatile global in the code (${describe(v)}) that the manifest does not declare`,
      });
    }
  }

  const codeMaps = new Map(btf.maps.map((m) => [m.name, m]));
  const maps = manifest.maps ?? {};
  for (const [name, decl] of Object.entries(maps)) {
    const code = codeMaps.get(name);
    if (code && decl.layout) issues.push(...checkLayout(name, decl.layout, code));
    if (code && decl.events && code.mapType !== undefined && code.mapType !== BPF_MAP_TYPE_RINGBUF) {
      issues.push({
        severity: 'error',
        code: 'EVENTS_NOT_RINGBUF',
        message: `map ${name}: declared as an event stream, but the code's map type is ${code.mapType}, not BPF_MAP_TYPE_RINGBUF (${BPF_MAP_TYPE_RINGBUF})`,
      });
    }
    if (!code) {
      issues.push({
        severity: 'error',
        code: 'MAP_MISSING_IN_CODE',
        message: `map ${name}: in the manifest but not in the code's .maps section`,
      });
    }
  }
  for (const m of btf.maps) {
    if (!(m.name in maps)) {
      issues.push({
        severity: 'warning',
        code: 'MAP_MISSING_IN_MANIFEST',
        message: `map ${m.name}: in the code but not described in the manifest (it will neither persist nor export metrics)`,
      });
    }
  }

  const functions = new Set(btf.functions);
  for (const p of manifest.programs) {
    if (!functions.has(p.name)) {
      issues.push({
        severity: 'error',
        code: 'PROGRAM_MISSING_IN_CODE',
        message: `program ${p.name}: in the manifest but the code has no global function of that name`,
      });
    }
  }
  return issues;
}

function checkPart(
  map: string,
  part: 'key' | 'value',
  layout: FieldLayout,
  code: BtfMapType | undefined,
): BuildIssue[] {
  if (!code) return [];
  const { fields, size } = layoutFields(layout, part);
  const issue = (why: string): BuildIssue => ({
    severity: 'error',
    code: 'MAP_LAYOUT_MISMATCH',
    message: `map ${map}: the manifest's ${part} layout ${why}`,
  });
  if (size !== code.size)
    return [issue(`is ${size} bytes but the code's ${part} (${code.name || 'anonymous'}) is ${code.size}`)];
  if (!code.fields || fields.length === 1) return [];
  const issues: BuildIssue[] = [];
  for (const field of fields) {
    const member = code.fields.find((m) => m.name === field.name);
    if (!member)
      issues.push(issue(`names field ${field.name}, which ${code.name || 'the struct'} does not have`));
    else if (member.offset !== field.offset) {
      issues.push(
        issue(`puts ${field.name} at byte ${field.offset} but the code has it at ${member.offset}`),
      );
    }
  }
  return issues;
}

function checkLayout(
  map: string,
  layout: { key: FieldLayout; value: FieldLayout },
  code: BtfMap,
): BuildIssue[] {
  return [
    ...checkPart(map, 'key', layout.key, code.key),
    ...checkPart(map, 'value', layout.value, code.value),
  ];
}
