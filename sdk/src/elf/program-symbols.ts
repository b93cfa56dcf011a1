// The program names of a BPF object read from its ELF symbols, as libbpf finds them: no libbpf needed (the edge).
import { BuildError } from '../errors.js';
import { type ElfObject, readElfSections, SHF_EXECINSTR } from './elf-sections.js';

const SHT_SYMTAB = 2;
const STT_FUNC = 2;
const SYMBOL_SIZE = 24;

/**
 * Every program of the object: the FUNC symbols in executable sections other than `.text` (which holds
 * subprograms), in symbol-table order. This is how libbpf splits an object into programs.
 */
export function readProgramNames(bytes: Uint8Array, what = 'object'): string[] {
  return programNamesOf(readElfSections(bytes, what), what);
}

export function programNamesOf(elf: ElfObject, what = 'object'): string[] {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  const strings = elf.sections[symtab.link]?.data;
  if (!strings) throw new BuildError('BAD_OBJECT', `read ${what}: symbol table without a string table`);
  const view = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
  const names: string[] = [];
  for (let at = 0; at + SYMBOL_SIZE <= symtab.data.length; at += SYMBOL_SIZE) {
    const info = view.getUint8(at + 4);
    if ((info & 0xf) !== STT_FUNC) continue;
    const section = elf.sections[view.getUint16(at + 6, elf.littleEndian)];
    if (!section || section.name === '.text' || (section.flags & SHF_EXECINSTR) === 0n) continue;
    names.push(stringAt(strings, view.getUint32(at, elf.littleEndian)));
  }
  return names;
}

function stringAt(table: Uint8Array, offset: number): string {
  let end = offset;
  while (end < table.length && table[end] !== 0) end++;
  return Buffer.from(table.subarray(offset, end)).toString('utf8');
}
