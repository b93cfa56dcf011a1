// @bpfleet/sdk/bpf: the eBPF loader (libbpf through koffi) in the shape of cilium/ebpf.
export { LegacyLink } from './attach/legacy-link.js';
export { detachOrphan } from './attach/legacy-orphans.js';
export { openPinnedAttachment } from './attach/pinned-attachment.js';
export { type AttachTarget, interfaceIndex, type XdpMode } from './attach/target.js';
export { ensureTracefs } from './attach/tracing.js';
export { Collection, type LoadCollectionOptions, loadCollection } from './collection.js';
export {
  type CollectionSpec,
  type ConfigValue,
  type LoadSpecOptions,
  loadCollectionSpec,
  type MapSpec,
  type ProgramSpec,
  type VariableSpec,
} from './collection-spec.js';
export { readDataSection } from './datasec-map.js';
export { abiProblem, onLibbpfWarning } from './internal/libbpf.js';
export { ATTACH_MODE_ENV, type AttachForm, attachForm } from './internal/link-support.js';
export {
  FdLink,
  type Link,
  type LinkInfo,
  openPinnedLink,
  type PinnableLink,
  type ProgramRef,
  TcFilterLink,
} from './link.js';
export { BpfMap, type MapInfo, openPinnedMap, readU64, splitPerCpu, UpdateFlags, u32, u64 } from './map.js';
export {
  type Arch,
  type Capability,
  type HostProbe,
  hasKernelBtf,
  parseCapabilities,
  parseMounts,
  probeHost,
} from './probe.js';
export { Program } from './program.js';
export { checkPrograms } from './program-requirements.js';
export { type TestRunOptions, type TestRunResult, testRun } from './program-test-run.js';
export {
  btfSource,
  type CheckRequiresOptions,
  checkRequires,
  compareKernel,
  type HostRequirements,
  parseKernelVersion,
  type Unmet,
  type UnmetKind,
} from './requirements.js';
export {
  type RingBufferOptions,
  RingBufferReader,
  readRingBuffer,
  type SampleHandler,
} from './ring-buffer.js';
export {
  type BatchHandler,
  drainRingBuffer,
  type RingBatch,
  RingDrain,
  type RingDrainOptions,
} from './ring-drain.js';
export type { AttachKind, Direction } from './section.js';
