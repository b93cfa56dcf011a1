// The ports the reconcile loop depends on; real implementations wire the sdk, tests may pass fakes.
import type { ConfigInput, EncodedMaps, MergedProgram, PolicyAttach } from '@bpfleet/sdk/policy';
import type { Reason } from './reporting/report.js';

/**
 * A program the merged policies name. `expired`: its policy's expiry passed (set by the policy store): what runs
 * for it stays, nothing new or changed is deployed for it.
 */
export type WantedProgram = MergedProgram & { expired?: { code: 'POLICY_EXPIRED'; message: string } };

export interface PolicySource {
  /** False until some policy was accepted: with nothing known, nothing running is removed. */
  ready(): boolean;
  /** The merged desired programs, in a stable order. */
  wanted(): WantedProgram[];
}

/** A package version chosen through the signed index. */
export interface PackageRef {
  package: string;
  version: string;
  digest: string;
  size: number;
  /** From the signed index when it says it; the signed package statement must name the same one. */
  manifestDigest?: string;
}

export interface IndexSource {
  /** Resolves an exact version, a semver range or a channel; skips yanked versions. */
  resolve(pkg: string, selector: { version?: string; channel?: string }): Promise<PackageRef>;
}

/** The bytes of a package and its signature bundle, as fetched (archive digest already checked). */
export interface Artifact {
  ref: PackageRef;
  archive: Uint8Array;
  bundle: unknown;
}

export interface Fetcher {
  fetch(ref: PackageRef, signal?: AbortSignal): Promise<Artifact>;
}

/** A package whose signature, digests and contents were checked. `manifest` and `contents` go to the loader. */
export interface VerifiedPackage {
  ref: PackageRef;
  manifestDigest: string;
  manifest: unknown;
  contents: unknown;
}

export interface PackageVerifier {
  verify(artifact: Artifact): Promise<VerifiedPackage>;
}

export interface HostProbe {
  /** What the host lacks to run the package, one human line each; empty when it can run it. */
  missing(pkg: VerifiedPackage): Promise<string[]>;
  /**
   * What a deploy's outcome may depend on here (kernel release, capabilities, BTF source): failures remembered
   * under another fingerprint are tried again. Absent: one host forever (simulated devices, tests).
   */
  fingerprint?(): string;
}

/** What runs for one deployment id, as the loader knows it (from its pins after a restart). */
export interface Deployment {
  id: string;
  package: string;
  version: string;
  digest: string;
  attach: PolicyAttach;
  /** Digest of the config values the program was loaded with. */
  configDigest: string;
  /** Digest of the policy's map entries written (absent: the policy gave none). */
  mapsDigest?: string;
  /** Entries written per policy-managed map. */
  mapEntries?: Record<string, number>;
}

export interface DeploySpec {
  id: string;
  pkg: VerifiedPackage;
  attach: PolicyAttach;
  config: Record<string, ConfigInput>;
  configDigest: string;
  /**
   * Every policy-managed map of the package with its entries, checked and encoded by the manifest's layouts
   * (the agent always sets it; absent: the maps are left as they are).
   */
  maps?: EncodedMaps;
  mapsDigest?: string;
}

/** One value read from a map the manifest marks as a metric; `key` tells entries of one map apart. */
export interface ProgramMetric {
  deployment: string;
  map: string;
  name: string;
  /** `label=value,…`: what telemetry shows; `labels` holds the same, as the exporter uses them. */
  key: string;
  /** In the name's base unit (the manifest's `scale` applied); a histogram's sample count. */
  value: number;
  type?: 'counter' | 'gauge' | 'histogram';
  help?: string;
  package?: string;
  version?: string;
  labels?: Record<string, string>;
  /** Histograms: each bucket's own count (not cumulative) under its upper bound in the base unit. */
  buckets?: { le: number; count: number }[];
  /** Histograms: the sum of the samples, where the program keeps it. */
  sum?: number;
}

/** What the kernel shows for one deployment, checked against what the loader recorded (never its own bookkeeping). */
export interface KernelCheck {
  id: string;
  /**
   * Absent when every link is in the kernel, pinned where recorded, on its recorded target (interface by name
   * and ifindex, cgroup), running the recorded program id. Codes: DRIFT_PIN_MISSING, DRIFT_DETACHED,
   * DRIFT_PROGRAM_REPLACED, DRIFT_TARGET_MISSING (the interface or cgroup is gone).
   */
  drift?: Reason;
  /**
   * What the loader did in this same call: `repaired` (re-pinned or re-attached from the collection it holds
   * open: ATTACHED again), `waiting` (the target is missing, also after a restart; when it is back a later
   * check re-attaches it, or says `redeploy` when nothing is held open), `redeploy` (nothing to repair from,
   * e.g. after a restart: the agent detaches the remains and deploys it again from the package).
   */
  outcome?: 'repaired' | 'waiting' | 'redeploy';
}

export interface Loader {
  /** Deployments found pinned from an earlier run, taken over without re-attaching. */
  adopt(): Promise<Deployment[]>;
  attach(spec: DeploySpec): Promise<Deployment>;
  /**
   * Loads the new version reusing persisted maps and swaps it into the existing link. A failure before the
   * swap throws and leaves `current` running; a failed health check after it swaps back, then throws.
   */
  upgrade(current: Deployment, spec: DeploySpec): Promise<Deployment>;
  /**
   * Same version, attach and config, new map entries: rewrites the difference in the running maps without a
   * reload. Everything is checked before the first write; a refusal throws and leaves the maps as they were.
   */
  updateMaps(current: Deployment, spec: DeploySpec): Promise<Deployment>;
  /**
   * Removes everything of the deployment from the kernel: every link closed and unpinned (detached first where
   * the link type can), maps unpinned, no fd kept. Never leaves a program running because detach is unsupported.
   */
  detach(id: string): Promise<void>;
  /**
   * Make-before-break hand-over from a deployment that is going away to a new id on the same hooks (a rename):
   * single-attach hooks (XDP) swap the program in the existing link; multi-attach hooks attach the new program
   * before the old link is closed. The old id's pins and record are gone afterwards.
   */
  handover(from: Deployment, spec: DeploySpec): Promise<Deployment>;
  /** Observes every deployment in the kernel and repairs what it can (see KernelCheck). Cheap: syscalls only. */
  check(): Promise<KernelCheck[]>;
  metrics(): Promise<ProgramMetric[]>;
}
