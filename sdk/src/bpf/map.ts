// BpfMap: a live map (by fd): lookup, update, delete, iterate (batched where the kernel can), pin.
import { unlinkSync } from 'node:fs';
import { BpfError } from '../errors.js';
import { closeFd, errnoName } from './internal/fd.js';
import { errno, libbpf, mapLookupBatch, objInfo } from './internal/libbpf.js';

const PERCPU_TYPES = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
const ENOENT = 2;

export interface MapInfo {
  readonly name: string;
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly id: number;
}

/** Update flags of bpf_map_update_elem. */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;

export class BpfMap {
  readonly info: MapInfo;
  #fd: number;
  readonly #owned: boolean;
  #batch: boolean | undefined;

  /** `owned`: this object closes the fd (pinned maps); a collection's maps are closed by the collection. */
  constructor(fd: number, owned: boolean, name?: string) {
    this.#fd = fd;
    this.#owned = owned;
    const info = readMapInfo(fd);
    // The kernel keeps 15 bytes of a name; the collection knows the whole one.
    this.info = name ? { ...info, name } : info;
  }

  get fd(): number {
    if (this.#fd < 0) throw new BpfError('CLOSED', `map ${this.info.name}: already closed`);
    return this.#fd;
  }

  get name(): string {
    return this.info.name;
  }

  get perCpu(): boolean {
    return PERCPU_TYPES.has(this.info.type);
  }

  /** Bytes of one value as the syscall sees it (per-CPU maps: one 8-byte-aligned slot per possible CPU). */
  get valueBufferSize(): number {
    if (!this.perCpu) return this.info.valueSize;
    return Math.ceil(this.info.valueSize / 8) * 8 * libbpf.numPossibleCpus();
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    this.#checkKey(key);
    const value = new Uint8Array(this.valueBufferSize);
    if (libbpf.mapLookup(this.fd, key, value) < 0) {
      const e = errno();
      if (e === ENOENT) return undefined;
      throw this.#error('lookup', e);
    }
    return value;
  }

  /** A per-CPU map's value split by CPU. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    const all = this.lookup(key);
    if (!all) return undefined;
    return splitPerCpu(all, this.info.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags: number = UpdateFlags.ANY): void {
    this.#checkKey(key);
    if (value.length !== this.valueBufferSize) {
      throw new BpfError(
        'MAP_VALUE_SIZE',
        `map ${this.name}: value is ${value.length} bytes, want ${this.valueBufferSize}`,
      );
    }
    if (libbpf.mapUpdate(this.fd, key, value, flags) < 0) throw this.#error('update', errno());
  }

  /** Returns false when the key was absent. */
  delete(key: Uint8Array): boolean {
    this.#checkKey(key);
    if (libbpf.mapDelete(this.fd, key) < 0) {
      const e = errno();
      if (e === ENOENT) return false;
      throw this.#error('delete', e);
    }
    return true;
  }

  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.info.keySize);
      if (libbpf.mapNextKey(this.fd, prev, next) < 0) {
        const e = errno();
        if (e === ENOENT) return out;
        throw this.#error('next key', e);
      }
      out.push(next);
      prev = next;
    }
  }

  /** Every entry; one BPF_MAP_LOOKUP_BATCH call per chunk where the kernel supports it for this map. */
  entries(): Array<[Uint8Array, Uint8Array]> {
    if (this.#batch !== false) {
      const batched = this.#batchEntries();
      if (batched) return batched;
    }
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value) out.push([key, value]);
    }
    return out;
  }

  pin(path: string): void {
    if (libbpf.objPin(this.fd, path) < 0) throw this.#error(`pin ${path}`, errno());
  }

  unpin(path: string): void {
    unlinkSync(path);
  }

  close(): void {
    if (this.#owned) closeFd(this.#fd);
    this.#fd = -1;
  }

  #batchEntries(): Array<[Uint8Array, Uint8Array]> | undefined {
    const chunk = Math.max(1, Math.min(this.info.maxEntries, 256));
    const keys = new Uint8Array(chunk * this.info.keySize);
    const values = new Uint8Array(chunk * this.valueBufferSize);
    // The batch cursor is opaque to us; the kernel writes up to key_size bytes (hash maps use 4).
    const outBatch = new Uint8Array(Math.max(8, this.info.keySize));
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let inBatch: Uint8Array | null = null;
    for (;;) {
      const r = mapLookupBatch(this.fd, inBatch, outBatch, keys, values, chunk);
      if (r.rc < 0 && r.errno !== ENOENT) {
        if (out.length === 0 && [22, 95, 524].includes(r.errno)) {
          this.#batch = false; // EINVAL / EOPNOTSUPP / ENOTSUPP: this map type has no batch ops
          return undefined;
        }
        throw this.#error('lookup batch', r.errno);
      }
      for (let i = 0; i < r.count; i++) {
        const k = keys.slice(i * this.info.keySize, (i + 1) * this.info.keySize);
        const v = values.slice(i * this.valueBufferSize, (i + 1) * this.valueBufferSize);
        out.push([k, v]);
      }
      this.#batch = true;
      if (r.rc < 0) return out; // ENOENT: the last chunk
      inBatch = outBatch.slice();
    }
  }

  #checkKey(key: Uint8Array): void {
    if (key.length !== this.info.keySize) {
      throw new BpfError(
        'MAP_KEY_SIZE',
        `map ${this.name}: key is ${key.length} bytes, want ${this.info.keySize}`,
      );
    }
  }

  #error(op: string, e: number): BpfError {
    return new BpfError(`MAP_${errnoName(e)}`, `map ${this.name}: ${op}: ${errnoName(e)}`);
  }
}

/** Opens a pinned map; the returned map owns its fd. */
export function openPinnedMap(path: string): BpfMap {
  const fd = libbpf.objGet(path);
  if (fd < 0) {
    const e = errno();
    throw new BpfError(`PIN_${errnoName(e)}`, `open pinned map ${path}: ${errnoName(e)}`);
  }
  try {
    return new BpfMap(fd, true);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}

export function splitPerCpu(all: Uint8Array, valueSize: number): Uint8Array[] {
  const stride = Math.ceil(valueSize / 8) * 8;
  const out: Uint8Array[] = [];
  for (let off = 0; off + valueSize <= all.length; off += stride) out.push(all.slice(off, off + valueSize));
  return out;
}

/** struct bpf_map_info: type, id, key_size, value_size, max_entries, map_flags, name[16]. */
function readMapInfo(fd: number): MapInfo {
  const { rc, info } = objInfo(fd, 128);
  if (rc < 0) {
    const e = errno();
    throw new BpfError(`MAP_${errnoName(e)}`, `map fd ${fd}: info: ${errnoName(e)}`);
  }
  const view = new DataView(info.buffer);
  const nameBytes = info.subarray(24, 40);
  const end = nameBytes.indexOf(0);
  return {
    type: libbpf.mapTypeStr(view.getUint32(0, true)) ?? 'unspec',
    id: view.getUint32(4, true),
    keySize: view.getUint32(8, true),
    valueSize: view.getUint32(12, true),
    maxEntries: view.getUint32(16, true),
    flags: view.getUint32(20, true),
    name: Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString('utf8'),
  };
}

/** Little-endian key and value helpers for the common integer layouts. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function u64(n: bigint | number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

export function readU64(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true);
}
