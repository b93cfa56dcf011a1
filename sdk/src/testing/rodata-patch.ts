// Sets `const volatile` config values in an object's .rodata before load, as libbpf skeletons do, for bpftool loads.

import { readElfSections } from '../compile/elf-sections.js';
import { BuildError } from '../errors.js';

const SHT_SYMTAB = 2;
const STT_OBJECT = 1;

/** A copy of `object` whose .rodata holds `values` (name → encoded bytes) instead of the compiled defaults. */
export function patchRodata(object: Uint8Array, values: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const copy = Uint8Array.from(object);
  const elf = readElfSections(copy);
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  const strtab = symtab ? elf.sections[symtab.link] : undefined;
  const rodataIndex = elf.sections.findIndex((s) => s.name === '.rodata');
  const rodata = elf.sections[rodataIndex];
  const left = new Map(values);
  if (symtab && strtab && rodata) {
    const view = new DataView(symtab.data.buffer, symtab.data.byteOffset, symtab.data.byteLength);
    for (let at = 0; at + 24 <= symtab.data.length; at += 24) {
      if (((symtab.data[at + 4] ?? 0) & 0xf) !== STT_OBJECT) continue;
      if (view.getUint16(at + 6, elf.littleEndian) !== rodataIndex) continue;
      const nameOffset = view.getUint32(at, elf.littleEndian);
      let end = nameOffset;
      while (end < strtab.data.length && strtab.data[end] !== 0) end++;
      const name = Buffer.from(strtab.data.subarray(nameOffset, end)).toString('utf8');
      const value = left.get(name);
      if (!value) continue;
      const offset = Number(view.getBigUint64(at + 8, elf.littleEndian));
      const size = Number(view.getBigUint64(at + 16, elf.littleEndian));
      if (size !== value.length) {
        throw new BuildError(
          'BAD_CONFIG',
          `config ${name}: ${value.length} bytes given, the object's variable has ${size}`,
        );
      }
      // `data` views `copy`, so this writes into the copy's .rodata.
      rodata.data.set(value, offset);
      left.delete(name);
    }
  }
  if (left.size > 0)
    throw new BuildError('BAD_CONFIG', `config: no such variable in .rodata: ${[...left.keys()].join(', ')}`);
  return copy;
}
