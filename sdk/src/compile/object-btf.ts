// What an object's BTF says about its settings, maps and programs, read through `bpftool -j btf dump`.
import { BuildError } from '../errors.js';
import type { RunTool } from './run-tool.js';

/** A `const volatile` global in .rodata: a setting the agent fills in before load. */
export interface BtfVariable {
  name: string;
  size: number;
  /** `int` (with `signed`), `bool`, `array`, `struct`, `union`, `enum` or `other`. */
  kind: string;
  signed: boolean;
  /** Name of the C type after typedefs (`__u32`), `''` when anonymous. */
  typeName: string;
}

export interface BtfMapType {
  name: string;
  size: number;
  /** Members with byte offsets, when the type is a struct. */
  fields?: Array<{ name: string; offset: number }>;
}

export interface BtfMap {
  name: string;
  key?: BtfMapType;
  value?: BtfMapType;
  /** The map type number of `__uint(type, …)` (BPF_MAP_TYPE_RINGBUF is 27), when the definition states it. */
  mapType?: number;
}

export interface ObjectBtf {
  config: BtfVariable[];
  maps: BtfMap[];
  /** Global functions: the programs and any global subprograms. */
  functions: string[];
  /** Kernel symbols the object resolves at load (`__ksym` variables and kfuncs, in `.ksyms`): kernel BTF only. */
  ksyms?: string[];
}

interface BtfTypeJson {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  type_id?: number;
  encoding?: string;
  nr_elems?: number;
  linkage?: string;
  members?: Array<{ name: string; type_id: number; bits_offset?: number }>;
  vars?: Array<{ type_id: number; size: number }>;
}

const QUALIFIERS = new Set(['CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG']);

/** Reads the summary from bpftool's JSON dump; pure, so tests can feed any dump. */
export function summarizeBtf(dump: { types: BtfTypeJson[] }): ObjectBtf {
  const byId = new Map<number, BtfTypeJson>();
  for (const t of dump.types) byId.set(t.id, t);

  const strip = (id: number | undefined, keepTypedef: boolean): BtfTypeJson | undefined => {
    let t = id === undefined ? undefined : byId.get(id);
    for (let hops = 0; t && hops < 32; hops++) {
      if (QUALIFIERS.has(t.kind) || (!keepTypedef && t.kind === 'TYPEDEF')) t = byId.get(t.type_id ?? -1);
      else break;
    }
    return t;
  };
  const sizeOf = (id: number | undefined): number => {
    const t = strip(id, false);
    if (!t) return 0;
    if (t.kind === 'ARRAY') return (t.nr_elems ?? 0) * sizeOf(t.type_id);
    return t.size ?? 0;
  };
  const nameOf = (id: number | undefined): string => {
    const t = strip(id, true);
    return t?.name && t.name !== '(anon)' ? t.name : '';
  };

  const datasec = (name: string) => dump.types.find((t) => t.kind === 'DATASEC' && t.name === name);

  const config: BtfVariable[] = [];
  for (const v of datasec('.rodata')?.vars ?? []) {
    const variable = byId.get(v.type_id);
    if (!variable?.name) continue;
    const base = strip(variable.type_id, false);
    const kind =
      base?.kind === 'INT'
        ? base.encoding === 'BOOL'
          ? 'bool'
          : 'int'
        : (base?.kind.toLowerCase().replace('enum64', 'enum') ?? 'other');
    config.push({
      name: variable.name,
      size: v.size,
      kind,
      signed: base?.kind === 'INT' && base.encoding === 'SIGNED',
      typeName: nameOf(variable.type_id),
    });
  }

  const maps: BtfMap[] = [];
  for (const v of datasec('.maps')?.vars ?? []) {
    const variable = byId.get(v.type_id);
    if (!variable?.name) continue;
    const def = strip(variable.type_id, false);
    const map: BtfMap = { name: variable.name };
    for (const member of def?.members ?? []) {
      // __uint(type, N) is `int (*type)[N]`: the number is the array's length.
      if (member.name === 'type') {
        const array = strip(strip(member.type_id, false)?.type_id, false);
        if (array?.kind === 'ARRAY') map.mapType = array.nr_elems ?? 0;
      }
      if (member.name !== 'key' && member.name !== 'value') continue;
      const pointer = strip(member.type_id, false);
      if (pointer?.kind !== 'PTR') continue;
      const target = strip(pointer.type_id, false);
      const fields =
        target?.kind === 'STRUCT'
          ? (target.members ?? []).map((m) => ({ name: m.name, offset: (m.bits_offset ?? 0) / 8 }))
          : undefined;
      map[member.name] = {
        name: nameOf(pointer.type_id),
        size: sizeOf(pointer.type_id),
        ...(fields ? { fields } : {}),
      };
    }
    maps.push(map);
  }

  const functions = dump.types
    .filter((t) => t.kind === 'FUNC' && t.linkage === 'global' && t.name)
    .map((t) => t.name as string);
  const ksyms = (datasec('.ksyms')?.vars ?? []).map((v) => byId.get(v.type_id)?.name ?? `#${v.type_id}`);
  return { config, maps, functions, ksyms };
}

export async function readObjectBtf(run: RunTool, bpftool: string, objectPath: string): Promise<ObjectBtf> {
  const result = await run(bpftool, ['-j', 'btf', 'dump', 'file', objectPath]);
  if (result.code !== 0) {
    throw new BuildError('NO_BTF', `read BTF of ${objectPath}: bpftool failed (was it built with -g?)`, {
      output: result.stderr,
    });
  }
  try {
    return summarizeBtf(JSON.parse(result.stdout) as { types: BtfTypeJson[] });
  } catch (err) {
    throw new BuildError('NO_BTF', `read BTF of ${objectPath}: unreadable bpftool output`, { cause: err });
  }
}
