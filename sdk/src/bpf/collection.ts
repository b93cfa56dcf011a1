// Collection: a loaded object that owns its programs' and maps' fds; loadCollection builds one or closes all.
import { BpfError } from '../errors.js';
import { type CollectionSpec, loadCollectionSpec, type MapSpec } from './collection-spec.js';
import { withBtfFile } from './custom-btf.js';
import { type ConfigValue, encodeValue } from './internal/datasec.js';
import { errnoName } from './internal/fd.js';
import {
  allocNative,
  initialValue,
  libbpf,
  loadObject,
  type MapHandle,
  setProgramAutoload,
  warningMark,
  warningsSince,
} from './internal/libbpf.js';
import { internalSection, mapsOf, type OpenObject, openObject, programsOf } from './internal/object.js';
import { type LoadFailure, loadFailure, type ProgramLog } from './load-failure.js';
import { BpfMap, openPinnedMap } from './map.js';
import { Program } from './program.js';

export interface LoadCollectionOptions {
  /** Values for the object's `const volatile` globals, by variable name. */
  config?: Record<string, ConfigValue>;
  /** Existing maps (or pin paths) to use instead of creating new ones, by map name: state across upgrades. */
  replaceMaps?: Record<string, BpfMap | string>;
  /** Where maps declared with `pinning = LIBBPF_PIN_BY_NAME` are pinned and reused from. */
  pinPath?: string;
  /** Initial verifier log size per program; it grows on ENOSPC. */
  logSize?: number;
  /** Only these programs are loaded (the others stay in the object, never loaded); all when absent. */
  programs?: readonly string[];
  /** A package's minimized BTF for CO-RE instead of the kernel's (for kernels without BTF). */
  btf?: Uint8Array;
}

const DEFAULT_LOG = 1 << 20;
const MAX_LOG = 1 << 28;

export class Collection {
  readonly spec: CollectionSpec;
  /** The loaded programs: all of the object's, or those `LoadCollectionOptions.programs` named. */
  readonly programs: ReadonlyMap<string, Program>;
  readonly maps: ReadonlyMap<string, BpfMap>;
  #opened: OpenObject | undefined;

  constructor(
    spec: CollectionSpec,
    opened: OpenObject,
    programs: Map<string, Program>,
    maps: Map<string, BpfMap>,
  ) {
    this.spec = spec;
    this.#opened = opened;
    this.programs = programs;
    this.maps = maps;
  }

  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new BpfError('NO_SUCH_PROGRAM', `collection ${this.spec.name}: no program ${name}`);
    return p;
  }

  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m) throw new BpfError('NO_SUCH_MAP', `collection ${this.spec.name}: no map ${name}`);
    return m;
  }

  /** Closes every program and map fd; links made from its programs keep running until they close. */
  close(): void {
    if (!this.#opened) return;
    for (const p of this.programs.values()) p.markClosed();
    for (const m of this.maps.values()) m.close();
    this.#opened.close();
    this.#opened = undefined;
  }
}

/** Opens from memory, sets config, reuses maps, loads off the main thread. Fails without leaving fds behind. */
export async function loadCollection(
  source: CollectionSpec | Uint8Array,
  options: LoadCollectionOptions = {},
): Promise<Collection> {
  const spec = source instanceof Uint8Array ? loadCollectionSpec(source) : source;
  checkConfigNames(spec, options.config ?? {});
  checkProgramNames(spec, options.programs);
  let logSize = options.logSize ?? DEFAULT_LOG;
  for (;;) {
    const result = await withBtfFile(options.btf, (btfPath) => loadOnce(spec, options, logSize, btfPath));
    if (result instanceof Collection) return result;
    if (result.retryWithBiggerLog && logSize < MAX_LOG) {
      logSize *= 4;
      continue;
    }
    throw result.error;
  }
}

async function loadOnce(
  spec: CollectionSpec,
  options: LoadCollectionOptions,
  logSize: number,
  btfPath: string | undefined,
): Promise<Collection | LoadFailure> {
  const opened = openObject(spec.bytes, spec.name, options.pinPath, btfPath);
  const logs: ProgramLog[] = [];
  let ok = false;
  try {
    const handles = mapsOf(opened.obj);
    applyConfig(spec, handles, options.config ?? {});
    reuseMaps(spec, handles, options.replaceMaps ?? {});
    const programs = programsOf(opened.obj).filter((p) => {
      const wanted = !options.programs || options.programs.includes(libbpf.programName(p));
      if (!wanted) setProgramAutoload(p, false);
      return wanted;
    });
    for (const p of programs) {
      const buf = allocNative(logSize);
      buf.bytes()[0] = 0;
      logs.push({
        name: libbpf.programName(p),
        type: libbpf.progTypeStr(libbpf.programType(p)) ?? 'unspec',
        buf,
      });
      libbpf.programSetLogBuf(p, buf.ptr, logSize);
    }
    const mark = warningMark();
    const rc = await loadObject(opened.obj);
    if (rc < 0) return loadFailure(`load ${spec.name}`, rc, logs, warningsSince(mark));
    const progMap = new Map<string, Program>();
    for (const p of programs) {
      const ps = spec.programs.find((s) => s.name === libbpf.programName(p));
      if (ps) progMap.set(ps.name, new Program(ps, p));
    }
    const mapMap = new Map<string, BpfMap>();
    for (const m of handles) {
      const name = libbpf.mapName(m);
      mapMap.set(name, new BpfMap(libbpf.mapFd(m), false, name));
    }
    ok = true;
    return new Collection(spec, opened, progMap, mapMap);
  } finally {
    for (const l of logs) l.buf.free(); // libbpf only writes the log during load
    if (!ok) opened.close();
  }
}

function checkConfigNames(spec: CollectionSpec, config: Record<string, ConfigValue>): void {
  const unknown = Object.keys(config).filter((k) => !spec.variables.some((v) => v.name === k));
  if (unknown.length > 0) {
    const known = spec.variables.map((v) => v.name).join(', ') || 'none';
    throw new BpfError(
      'CONFIG_UNKNOWN',
      `load ${spec.name}: unknown config ${unknown.join(', ')} (known: ${known})`,
    );
  }
}

function checkProgramNames(spec: CollectionSpec, programs: readonly string[] | undefined): void {
  const unknown = (programs ?? []).filter((name) => !spec.programs.some((p) => p.name === name));
  if (unknown.length > 0) {
    const known = spec.programs.map((p) => p.name).join(', ') || 'none';
    throw new BpfError(
      'NO_SUCH_PROGRAM',
      `load ${spec.name}: no program ${unknown.join(', ')} in the object (it has: ${known})`,
    );
  }
}

function applyConfig(spec: CollectionSpec, handles: MapHandle[], config: Record<string, ConfigValue>): void {
  if (Object.keys(config).length === 0) return;
  for (const map of handles) {
    if (!libbpf.mapIsInternal(map)) continue;
    const section = internalSection(libbpf.mapName(map));
    const vars = spec.variables.filter((v) => v.section === section && v.name in config);
    if (vars.length === 0) continue;
    const data = initialValue(map);
    if (!data) continue;
    for (const v of vars)
      encodeValue(v, config[v.name] as ConfigValue, data.subarray(v.offset, v.offset + v.size));
    const rc = libbpf.mapSetInitialValue(map, data, data.length);
    if (rc < 0)
      throw new BpfError(`CONFIG_${errnoName(rc)}`, `load ${spec.name}: set ${section}: ${errnoName(rc)}`);
  }
}

function reuseMaps(
  spec: CollectionSpec,
  handles: MapHandle[],
  replace: Record<string, BpfMap | string>,
): void {
  for (const [name, existing] of Object.entries(replace)) {
    const handle = handles.find((h) => libbpf.mapName(h) === name);
    const want = spec.maps.find((m) => m.name === name);
    if (!handle || !want) throw new BpfError('NO_SUCH_MAP', `load ${spec.name}: replaceMaps: no map ${name}`);
    const map = typeof existing === 'string' ? openPinnedMap(existing) : existing;
    try {
      checkCompatible(spec.name, want, map);
      // reuse_fd dups the fd: the caller keeps its map, the object closes its own copy.
      const rc = libbpf.mapReuseFd(handle, map.fd);
      if (rc < 0)
        throw new BpfError(`MAP_${errnoName(rc)}`, `load ${spec.name}: reuse map ${name}: ${errnoName(rc)}`);
    } finally {
      if (typeof existing === 'string') map.close();
    }
  }
}

function checkCompatible(object: string, want: MapSpec, have: BpfMap): void {
  const diffs: string[] = [];
  const h = have.info;
  if (want.type !== h.type) diffs.push(`type ${h.type} != ${want.type}`);
  if (want.keySize !== h.keySize) diffs.push(`key size ${h.keySize} != ${want.keySize}`);
  if (want.valueSize !== h.valueSize) diffs.push(`value size ${h.valueSize} != ${want.valueSize}`);
  if (want.maxEntries !== h.maxEntries) diffs.push(`max entries ${h.maxEntries} != ${want.maxEntries}`);
  if (diffs.length > 0) {
    throw new BpfError(
      'MAP_INCOMPATIBLE',
      `load ${object}: map ${want.name} cannot be reused: ${diffs.join(', ')}`,
    );
  }
}
