// CollectionSpec: what an object file holds (programs, maps, config variables), read without loading.
import type { ConfigValue, VariableSpec } from './internal/datasec.js';
import { libbpf } from './internal/libbpf.js';
import { mapsOf, openObject, programsOf, variablesOf } from './internal/object.js';
import { type AttachKind, type Direction, sectionInfo } from './section.js';

export interface ProgramSpec {
  readonly name: string;
  /** The SEC() name, e.g. `xdp`, `cgroup_skb/egress`, `tp_btf/sched_process_exec`. */
  readonly section: string;
  /** libbpf's program type name (`xdp`, `sched_cls`, `tracing`, …). */
  readonly type: string;
  /** libbpf's expected attach type name, or null when the kernel needs none. */
  readonly attachType: string | null;
  readonly attach: AttachKind;
  readonly direction?: Direction;
}

export interface MapSpec {
  readonly name: string;
  /** libbpf's map type name (`hash`, `array`, `percpu_array`, `ringbuf`, …). */
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** libbpf's own maps for global data (`.rodata`, `.bss`, `.data`). */
  readonly internal: boolean;
}

export interface CollectionSpec {
  readonly name: string;
  /** The verified ELF bytes; loading opens these, never a path. */
  readonly bytes: Uint8Array;
  readonly programs: readonly ProgramSpec[];
  readonly maps: readonly MapSpec[];
  /** `const volatile` globals (in `.rodata`) that `loadCollection` sets from `config`. */
  readonly variables: readonly VariableSpec[];
}

export interface LoadSpecOptions {
  /** The object name libbpf uses as a prefix for internal maps; defaults to `bpfleet`. */
  name?: string;
}

/** Parses an object from memory. Touches no kernel state. */
export function loadCollectionSpec(bytes: Uint8Array, options: LoadSpecOptions = {}): CollectionSpec {
  const name = options.name ?? 'bpfleet';
  const opened = openObject(bytes, name);
  try {
    const programs = programsOf(opened.obj).map((p): ProgramSpec => {
      const section = libbpf.programSection(p);
      const type = libbpf.progTypeStr(libbpf.programType(p)) ?? 'unspec';
      const info = sectionInfo(section, type);
      const attachName = libbpf.attachTypeStr(libbpf.programAttachType(p));
      const spec: ProgramSpec = {
        name: libbpf.programName(p),
        section,
        type,
        attachType: info.kind === 'xdp' || info.kind === 'cgroup' || type === 'tracing' ? attachName : null,
        attach: info.kind,
      };
      return info.direction ? { ...spec, direction: info.direction } : spec;
    });
    const maps = mapsOf(opened.obj).map(
      (m): MapSpec => ({
        name: libbpf.mapName(m),
        type: libbpf.mapTypeStr(libbpf.mapType(m)) ?? 'unspec',
        keySize: libbpf.mapKeySize(m),
        valueSize: libbpf.mapValueSize(m),
        maxEntries: libbpf.mapMaxEntries(m),
        flags: libbpf.mapFlags(m),
        internal: libbpf.mapIsInternal(m),
      }),
    );
    const variables = variablesOf(opened.obj);
    return { name, bytes: bytes.slice(), programs, maps, variables };
  } finally {
    opened.close();
  }
}

export type { ConfigValue, VariableSpec };
