// The manifest's types and the closed vocabularies they use: the one schema of a bpfleet package.
import type { EventStreamDecl } from './event-streams.js';

export const ARCHES = ['x86', 'arm64', 'arm', 'riscv', 's390', 'powerpc', 'mips', 'loongarch'] as const;
export type Arch = (typeof ARCHES)[number];

export const INTEGER_TYPES = ['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64'] as const;
export type IntegerType = (typeof INTEGER_TYPES)[number];

/** Types of config variables and of map key/value fields. `bytes` always comes with a size. */
export const CONFIG_TYPES = [...INTEGER_TYPES, 'bool', 'ipv4', 'ipv6', 'mac', 'bytes'] as const;
export type ConfigType = (typeof CONFIG_TYPES)[number];
export type ScalarType = Exclude<ConfigType, 'bytes'>;
export const SCALAR_TYPES: readonly ScalarType[] = CONFIG_TYPES.filter((t): t is ScalarType => t !== 'bytes');

/**
 * A config value as JSON carries it: integers as a number (safe range) or a decimal string (any u64/s64),
 * bool as a boolean, ipv4 dotted, ipv6 text, mac `aa:bb:cc:dd:ee:ff`, bytes as hex.
 * Parsed manifests hold the canonical form (see `normalizeConfigValue`).
 */
export type ConfigValue = number | string | boolean;

/** A program's `const volatile` global, set by the agent before load. */
export interface ConfigVarDecl {
  type: ConfigType;
  /** Byte length; only (and always) for `bytes`. */
  size?: number;
  default: ConfigValue;
  /** Inclusive bounds, integer types only; canonical form like values. */
  min?: number | string;
  max?: number | string;
  description?: string;
}

export interface AttachDefaults {
  interface?: string;
  direction?: 'ingress' | 'egress';
  /** cgroup v2 path, relative to the cgroup2 mount (`/` is the root cgroup). */
  cgroup?: string;
  /** XDP attach mode. */
  mode?: 'driver' | 'generic';
  /** `category/name`, when the SEC name leaves it open. */
  tracepoint?: string;
}

/** A program in the object. Its `SEC()` name is the only source of its attach type; never stated here. */
export interface ProgramDecl {
  /** The C function name. */
  name: string;
  attach?: AttachDefaults;
  /**
   * `false`: in the object but never loaded (a raw_tp fallback beside a tp_btf variant, an alternative XDP
   * program). Such a program must have a `description` saying what it is for. Default true.
   */
  load?: boolean;
  description?: string;
}

export interface BytesLayout {
  type: 'bytes';
  size: number;
}
export type ScalarLayout = ScalarType | BytesLayout;
/** `char name[size]`: decoded up to the first NUL as UTF-8 text. */
export interface StringLayout {
  type: 'string';
  size: number;
}
/** An integer read as a name (`{"0": "pass", "1": "drop"}`); a value without a name reads as its decimal text. */
export interface EnumLayout {
  type: 'enum';
  of: IntegerType;
  names: { [value: string]: string };
}
/** `elem name[length]`: a fixed array, e.g. a bcc-style `u32 slots[26]` histogram. */
export interface ArrayLayout {
  type: 'array';
  of: FieldLayout;
  length: number;
}
/** One value that decodes on its own: no fields inside it. */
export type LeafLayout = ScalarLayout | StringLayout | EnumLayout;
/** A struct: field name → layout, in declaration order. Fields use C natural alignment (see `layoutFields`). */
export type StructLayout = { [field: string]: FieldLayout };
export type FieldLayout = LeafLayout | ArrayLayout | StructLayout;

export interface MapLayout {
  key: FieldLayout;
  value: FieldLayout;
}

export const METRIC_TYPES = ['counter', 'gauge', 'histogram'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/**
 * How a histogram's bucket index maps to its upper bound: `log2` (bcc's `log2l`: bucket 0 holds 0, bucket n
 * holds [2^(n-1), 2^n), so its `le` is 2^n - 1 for integer samples) or `linear` (bucket n holds
 * [min + n·width, min + (n+1)·width)). `scale` turns the program's unit into the base unit (1e-6: µs → s).
 */
export interface HistogramBuckets {
  kind: 'log2' | 'linear';
  /** linear only */
  min?: number;
  /** linear only */
  width?: number;
  /**
   * Histograms kept as an entry per bucket: how many buckets the program has; the last one is open (`+Inf`), as
   * bcc-style code clamps to it. Without it every entry's bound is finite.
   */
  count?: number;
}

export interface MetricSpec {
  /** Prometheus metric name, `[a-z_][a-z0-9_]*`, unique in the manifest. */
  name: string;
  type: MetricType;
  help: string;
  /**
   * The integer value field to export (a dotted path into nested structs: `stats.packets`); omitted when the
   * value layout is a scalar. For a histogram: an integer array field (one element per bucket), or an integer
   * field when each map entry is one bucket (then `bucket` names the key field holding the index).
   */
  value?: string;
  /** Histograms kept as one entry per bucket: the key field holding the bucket index. */
  bucket?: string;
  /** Histograms: the value field holding the sum of the samples, where the program keeps it. */
  sum?: string;
  /** Histograms: how indexes map to bounds. */
  buckets?: HistogramBuckets;
  /** Multiplies every exported value (and a histogram's sum): the program's unit → the name's base unit. */
  scale?: number;
  /** Prometheus label → key field name (`key` when the key layout is a scalar). */
  labels?: { [label: string]: string };
  /** Names for numeric label values, e.g. `{ verdict: { "0": "pass", "1": "drop" } }`. */
  labelValues?: { [label: string]: { [value: string]: string } };
  /** Per-CPU maps: how to fold the per-CPU values. */
  perCpu?: 'sum';
}

export const DERIVATION_KINDS = ['ipv4-slash16-bitmap'] as const;
export type DerivationKind = (typeof DERIVATION_KINDS)[number];

/** A map whose contents the agent computes from a policy-managed map by a built-in derivation. */
export interface MapDerivation {
  /** The policy-managed map it is derived from. */
  from: string;
  kind: DerivationKind;
}

/**
 * A map declared in the object. A map exports any number of metrics through the single `metrics` array
 * (one shape: no singular `metric` field); metrics need the `layout` to decode keys and values.
 */
export interface MapDecl {
  /** The map's state is kept (pinned, reused) across restarts and upgrades. */
  persist?: boolean;
  /** This version's layout differs: the persisted state is dropped on upgrade to it. */
  resetOnUpgrade?: boolean;
  layout?: MapLayout;
  /** `policy`: the signed policy's `maps.<name>` list is the map's whole contents; the agent writes it. */
  entries?: 'policy';
  /** The agent recomputes this map from another one whenever that one is written. */
  derive?: MapDerivation;
  metrics?: MetricSpec[];
  /** A ring buffer drained by the agent as an event stream (see `event-streams.ts`). */
  events?: EventStreamDecl;
  description?: string;
}

/**
 * `.bss`/`.data` variables as metric sources (cilium/ebpf's examples count in globals): each variable's layout by
 * name; metric `value`s name a variable (or a path into it). The agent reads the section's map at each variable's
 * BTF offset, so declaration order and padding in the object do not matter.
 */
export interface GlobalsDecl {
  vars: { [name: string]: FieldLayout };
  metrics: MetricSpec[];
}

export const CAPABILITIES = ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON', 'CAP_SYS_ADMIN'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface Requires {
  arches: Arch[];
  /** Minimum kernel, `major.minor[.patch]`. */
  kernel?: string;
  /**
   * `true`: the kernel's BTF is needed. `"core"`: the object's CO-RE relocations touch only stable UAPI types and
   * the package carries its minimized BTF (`bpf/<arch>/<name>.min.btf`), so any kernel will do.
   */
  btf?: boolean | 'core';
  /** libbpf program type names (`xdp`, `sched_cls`, …). */
  programTypes?: string[];
  /** libbpf map type names (`hash`, `lpm_trie`, …). */
  mapTypes?: string[];
  helpers?: string[];
  capabilities?: Capability[];
}

export interface Manifest {
  /** `namespace/name`. */
  name: string;
  version: string;
  description?: string;
  /** The exact string of the object's `license` section. */
  license: string;
  programs: ProgramDecl[];
  config?: { [name: string]: ConfigVarDecl };
  maps?: { [name: string]: MapDecl };
  globals?: GlobalsDecl;
  requires: Requires;
}

/** Bounds that keep a manifest small enough to parse anywhere, a phone included. */
export const MANIFEST_LIMITS = {
  maxBytes: 64 * 1024,
  maxNamePart: 64,
  maxIdentifier: 64,
  maxDescription: 512,
  maxLicense: 128,
  maxPrograms: 64,
  maxMaps: 64,
  maxConfigVars: 128,
  maxMetricsPerMap: 16,
  maxLayoutFields: 32,
  maxLayoutDepth: 4,
  maxArrayLength: 4096,
  maxLayoutBytes: 65536,
  maxLabels: 8,
  maxLabelValues: 256,
  maxBytesSize: 1024,
  maxListItems: 256,
  maxCgroupPath: 1024,
} as const;
