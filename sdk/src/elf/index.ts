// @bpfleet/sdk/elf: reading BPF objects without libbpf (license, helper calls, program names), for build and edge.
export {
  type ElfObject,
  type ElfSection,
  EM_BPF,
  readElfSections,
  readHelperCalls,
  readLicense,
  SHF_EXECINSTR,
} from './elf-sections.js';
export { programNamesOf, readProgramNames } from './program-symbols.js';
export { type ObjectProgram, type WriteObjectOptions, writeBpfObject } from './write-object.js';
