// manifest: the package manifest schema, its parser, config value codec and package names.

export {
  decodeConfigValue,
  type Endianness,
  encodeConfigValue,
  integerRange,
  normalizeConfigValue,
  typeSize,
  validateConfigValue,
} from './config-values.js';
export { checkEventStreams, type EventStreamDecl, parseEventStream } from './event-streams.js';
export { exampleManifest, exampleManifestJson } from './example-manifest.js';
export { globalsLayout } from './globals-decl.js';
export {
  decodeLayoutValue,
  encodeLayoutValue,
  foldPerCpu,
  type LayoutFail,
  type LayoutValue,
  layoutSize,
  readUnsigned,
  splitPerCpu,
} from './layout-values.js';
export { assertGplCompatible, isGplCompatible, KERNEL_GPL_COMPATIBLE_LICENSES } from './license.js';
export {
  type DerivedWritePlan,
  type DerivedWrites,
  derivationLayoutProblem,
  deriveSlash16,
  type EncodedEntry,
  planDerivedWrites,
  SLASH16,
} from './map-derivations.js';
export {
  fieldAt,
  isIntegerLeaf,
  type LayoutField,
  layoutFields,
  leafFields,
} from './map-layout.js';
export {
  assertMetricConventions,
  FIXED_LABELS,
  histogramBounds,
  metricNameProblem,
} from './metric-specs.js';
export { isValidPackageName, manifestDigest, packageId, splitPackageName } from './package-name.js';
export { type ParseManifestOptions, parseManifest } from './parse-manifest.js';
export { checkObjectPrograms, ProgramSetError, type ProgramSetManifest } from './program-set.js';
export { MAP_TYPES, PROGRAM_TYPES } from './requires.js';
export * from './types.js';
