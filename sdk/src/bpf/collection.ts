// Collection: a loaded object that owns its programs' and maps' fds; loadCollection builds one or closes all.
import { BpfError, NotSupportedError, VerifierError } from '../errors.js';
import { type CollectionSpec, loadCollectionSpec, type MapSpec } from './collection-spec.js';
import { type ConfigValue, encodeValue } from './internal/datasec.js';
import { errnoName } from './internal/fd.js';
import {
  allocNative,
  initialValue,
  libbpf,
  libbpfStrerror,
  loadObject,
  type MapHandle,
  type NativeMemory,
  warningMark,
  warningsSince,
} from './internal/libbpf.js';
import { internalSection, mapsOf, type OpenObject, openObject, programsOf } from './internal/object.js';
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
}

const DEFAULT_LOG = 1 << 20;
const MAX_LOG = 1 << 28;
const ENOSPC = 28;

export class Collection {
  readonly spec: CollectionSpec;
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
  let logSize = options.logSize ?? DEFAULT_LOG;
  for (;;) {
    const result = await loadOnce(spec, options, logSize);
    if (result instanceof Collection) return result;
    if (result.retryWithBiggerLog && logSize < MAX_LOG) {
      logSize *= 4;
      continue;
    }
    throw result.error;
  }
}

interface Failure {
  error: Error;
  retryWithBiggerLog: boolean;
}

async function loadOnce(
  spec: CollectionSpec,
  options: LoadCollectionOptions,
  logSize: number,
): Promise<Collection | Failure> {
  const opened = openObject(spec.bytes, spec.name, options.pinPath);
  const logs: Array<{ name: string; type: string; buf: NativeMemory }> = [];
  let ok = false;
  try {
    const handles = mapsOf(opened.obj);
    applyConfig(spec, handles, options.config ?? {});
    reuseMaps(spec, handles, options.replaceMaps ?? {});
    const programs = programsOf(opened.obj);
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
    if (rc < 0) return loadFailure(spec, rc, logs, warningsSince(mark));
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

function loadFailure(
  spec: CollectionSpec,
  rc: number,
  logs: Array<{ name: string; type: string; buf: NativeMemory }>,
  warnings: string[],
): Failure {
  const where = `load ${spec.name}`;
  const culprit = logs.find((l) => l.buf.bytes()[0] !== 0);
  const said = warnings.at(-1);
  if (-rc === ENOSPC && culprit) return { error: new Error('log too small'), retryWithBiggerLog: true };
  const tracing = logs.find((l) => ['tracing', 'lsm', 'ext'].includes(l.type));
  if (tracing && [1, 95, 524].includes(-rc)) {
    return {
      error: new NotSupportedError(
        `LOAD_${errnoName(rc)}`,
        `${where}: program ${tracing.name}: the kernel refuses ${tracing.type} programs here (${errnoName(rc)}: fentry/fexit/LSM need BTF trampolines this kernel does not allow)`,
      ),
      retryWithBiggerLog: false,
    };
  }
  if (culprit) {
    const log = readLog(culprit.buf);
    return {
      error: new VerifierError(
        culprit.name,
        `${where}: program ${culprit.name}: verifier: ${summarize(log)}`,
        log,
      ),
      retryWithBiggerLog: false,
    };
  }
  const detail = `${errnoName(rc)} (${libbpfStrerror(rc)})${said ? `: libbpf: ${said}` : ''}`;
  return { error: new BpfError(`LOAD_${errnoName(rc)}`, `${where}: ${detail}`), retryWithBiggerLog: false };
}

function readLog(buf: NativeMemory): string {
  const bytes = buf.bytes();
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
}

/** The verifier's reason: the last line before its "processed N insns" statistics. */
export function summarize(log: string): string {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const stats = lines.findIndex((l) => l.startsWith('processed '));
  const candidates = stats > 0 ? lines.slice(0, stats) : lines;
  return candidates.at(-1) ?? 'rejected with an empty log';
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
