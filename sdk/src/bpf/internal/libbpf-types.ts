// The types of the libbpf binding: opaque handles, native memory, option shapes (no koffi here).

/** Opaque libbpf handles; only this file creates them. */
export interface ObjectHandle {
  readonly __brand: 'bpf_object';
}
export interface ProgramHandle {
  readonly __brand: 'bpf_program';
}
export interface MapHandle {
  readonly __brand: 'bpf_map';
}
export interface LinkHandle {
  readonly __brand: 'bpf_link';
}
export interface BtfHandle {
  readonly __brand: 'btf';
}
export interface RingBufferHandle {
  readonly __brand: 'ring_buffer';
}
/** A raw pointer into memory libbpf or koffi owns. */
export interface RawPointer {
  readonly __brand: 'pointer';
}

/** libbpf major.minor versions whose struct layouts this file matches. */
export const KNOWN_ABIS = ['1.1'];

/** Native memory with a stable address, for buffers libbpf keeps past the call that receives them. */
export interface NativeMemory {
  readonly ptr: RawPointer;
  readonly size: number;
  bytes(): Uint8Array;
  free(): void;
}

export interface LinkCreateOptions {
  flags?: number;
}

export interface TcHook {
  ifindex: number;
  attachPoint: number;
}

export interface TcOptions {
  progFd: number;
  handle: number;
  priority: number;
}

export type Callback<T> = (err: unknown, value: T) => void;
export interface AsyncFn<A extends unknown[], R> {
  (...args: A): R;
  async: (...args: [...A, Callback<R>]) => void;
}
