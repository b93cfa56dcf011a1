// Writes a small valid BPF ELF object (each program `r0 = 0; exit`): stand-in objects for registry and fleet tests.

const EHDR = 64;
const SHDR = 64;
const SYM = 24;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHF_ALLOC_EXEC = 0x6n;
const SHF_ALLOC_WRITE = 0x3n;
const STB_GLOBAL_FUNC = 0x12;
const STB_GLOBAL_OBJECT = 0x11;
// r0 = 0; exit
const CODE = Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

export interface ObjectProgram {
  /** The function name. */
  name: string;
  /** The SEC() name (`xdp`, `tc`, `raw_tp/sys_enter`, …). */
  section: string;
}

export interface WriteObjectOptions {
  license?: string;
  /** Bytes carried in a non-loaded section: sizes and unique digests for tests. */
  padding?: Uint8Array;
}

interface Section {
  name: string;
  type: number;
  flags: bigint;
  data: Uint8Array;
  link?: number;
  info?: number;
  entsize?: number;
  align?: number;
}

class Strings {
  private bytes: number[] = [0];
  add(s: string): number {
    const at = this.bytes.length;
    this.bytes.push(...Buffer.from(s, 'utf8'), 0);
    return at;
  }
  data(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A little-endian ELF64 relocatable object for EM_BPF that libbpf opens and loads (no BTF, no maps). */
export function writeBpfObject(
  programs: readonly ObjectProgram[],
  options: WriteObjectOptions = {},
): Uint8Array {
  const sections: Section[] = [{ name: '', type: 0, flags: 0n, data: new Uint8Array(0) }];
  const symbols = new Strings();
  const symtab: Array<{ name: number; info: number; shndx: number; size: number }> = [];
  for (const p of programs) {
    sections.push({ name: p.section, type: SHT_PROGBITS, flags: SHF_ALLOC_EXEC, data: CODE, align: 8 });
    symtab.push({
      name: symbols.add(p.name),
      info: STB_GLOBAL_FUNC,
      shndx: sections.length - 1,
      size: CODE.length,
    });
  }
  const license = Buffer.from(`${options.license ?? 'GPL'}\0`);
  sections.push({ name: 'license', type: SHT_PROGBITS, flags: SHF_ALLOC_WRITE, data: license, align: 1 });
  symtab.push({
    name: symbols.add('LICENSE'),
    info: STB_GLOBAL_OBJECT,
    shndx: sections.length - 1,
    size: license.length,
  });
  if (options.padding)
    sections.push({ name: '.bpfleet.padding', type: SHT_PROGBITS, flags: 0n, data: options.padding });

  const symData = new Uint8Array(SYM * (symtab.length + 1));
  const symView = new DataView(symData.buffer);
  symtab.forEach((s, i) => {
    const at = SYM * (i + 1);
    symView.setUint32(at, s.name, true);
    symView.setUint8(at + 4, s.info);
    symView.setUint16(at + 6, s.shndx, true);
    symView.setBigUint64(at + 16, BigInt(s.size), true);
  });
  const symtabIndex = sections.length;
  sections.push({
    name: '.symtab',
    type: SHT_SYMTAB,
    flags: 0n,
    data: symData,
    link: symtabIndex + 1,
    info: 1, // every symbol after the null one is global
    entsize: SYM,
    align: 8,
  });
  sections.push({ name: '.strtab', type: SHT_STRTAB, flags: 0n, data: symbols.data() });
  const names = new Strings();
  const nameOffsets = sections.map((s) => (s.name === '' ? 0 : names.add(s.name)));
  const shstrtabName = names.add('.shstrtab');
  sections.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0n, data: names.data() });
  nameOffsets.push(shstrtabName);

  const offsets: number[] = [];
  let end = EHDR;
  for (const s of sections) {
    end = align(end, s.align ?? 1);
    offsets.push(end);
    end += s.data.length;
  }
  const shoff = align(end, 8);
  const out = new Uint8Array(shoff + SHDR * sections.length);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, 1, true); // ET_REL
  view.setUint16(18, 247, true); // EM_BPF
  view.setUint32(20, 1, true);
  view.setBigUint64(40, BigInt(shoff), true);
  view.setUint16(52, EHDR, true);
  view.setUint16(58, SHDR, true);
  view.setUint16(60, sections.length, true);
  view.setUint16(62, sections.length - 1, true);
  sections.forEach((s, i) => {
    out.set(s.data, offsets[i] as number);
    const at = shoff + i * SHDR;
    view.setUint32(at, nameOffsets[i] as number, true);
    view.setUint32(at + 4, s.type, true);
    view.setBigUint64(at + 8, s.flags, true);
    view.setBigUint64(at + 24, BigInt(i === 0 ? 0 : (offsets[i] as number)), true);
    view.setBigUint64(at + 32, BigInt(s.data.length), true);
    view.setUint32(at + 40, s.link ?? 0, true);
    view.setUint32(at + 44, s.info ?? 0, true);
    view.setBigUint64(at + 48, BigInt(s.align ?? 1), true);
    view.setBigUint64(at + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
