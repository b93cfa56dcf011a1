// A minimal ELF64 section reader: enough to read a BPF object's license, its program code and symbols.
import { BuildError } from '../errors.js';

export interface ElfSection {
  name: string;
  type: number;
  link: number;
  flags: bigint;
  data: Uint8Array;
}

export interface ElfObject {
  littleEndian: boolean;
  machine: number;
  sections: ElfSection[];
}

export const EM_BPF = 247;
const SHT_NOBITS = 8;
export const SHF_EXECINSTR = 0x4n;

export function readElfSections(bytes: Uint8Array, what = 'object'): ElfObject {
  const fail = (reason: string): never => {
    throw new BuildError('BAD_OBJECT', `read ${what}: ${reason}`);
  };
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail('not an ELF file');
  }
  if (bytes[4] !== 2) fail('not a 64-bit ELF file');
  const le = bytes[5] === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = view.getUint16(18, le);
  const shoff = Number(view.getBigUint64(40, le));
  const shentsize = view.getUint16(58, le);
  const shnum = view.getUint16(60, le);
  const shstrndx = view.getUint16(62, le);
  if (shentsize < 64 || shoff + shnum * shentsize > bytes.length) fail('section table out of bounds');

  const headers = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const type = view.getUint32(at + 4, le);
    const offset = Number(view.getBigUint64(at + 24, le));
    const size = Number(view.getBigUint64(at + 32, le));
    if (type !== SHT_NOBITS && offset + size > bytes.length) fail(`section ${i} out of bounds`);
    headers.push({
      nameOffset: view.getUint32(at, le),
      type,
      flags: view.getBigUint64(at + 8, le),
      link: view.getUint32(at + 40, le),
      data: type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(offset, offset + size),
    });
  }
  const names = headers[shstrndx]?.data ?? fail('no section name table');
  const nameAt = (offset: number): string => {
    let end = offset;
    while (end < names.length && names[end] !== 0) end++;
    return Buffer.from(names.subarray(offset, end)).toString('utf8');
  };
  return {
    littleEndian: le,
    machine,
    sections: headers.map((h) => ({
      name: nameAt(h.nameOffset),
      type: h.type,
      flags: h.flags,
      link: h.link,
      data: h.data,
    })),
  };
}

/** The `license` section as the kernel reads it: a NUL-terminated string. */
export function readLicense(elf: ElfObject): string | undefined {
  const section = elf.sections.find((s) => s.name === 'license');
  if (!section) return undefined;
  const end = section.data.indexOf(0);
  return Buffer.from(section.data.subarray(0, end < 0 ? section.data.length : end)).toString('utf8');
}

/** Ids of the helpers the code calls (BPF_JMP|BPF_CALL with src_reg 0; kfuncs and subprogram calls excluded). */
export function readHelperCalls(elf: ElfObject): Set<number> {
  const ids = new Set<number>();
  for (const section of elf.sections) {
    if ((section.flags & SHF_EXECINSTR) === 0n) continue;
    const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
    for (let at = 0; at + 8 <= section.data.length; at += 8) {
      const opcode = section.data[at];
      const regs = section.data[at + 1] ?? 0;
      const srcReg = elf.littleEndian ? regs >> 4 : regs & 0xf;
      if (opcode === 0x85 && srcReg === 0) ids.add(view.getInt32(at + 4, elf.littleEndian));
      // ld_imm64 takes two slots; its second half must not be read as an instruction.
      if (opcode === 0x18) at += 8;
    }
  }
  return ids;
}
