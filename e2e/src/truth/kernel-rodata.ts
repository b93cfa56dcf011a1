// The kernel's copy of a loaded program's `const volatile` globals: its .rodata map's bytes, cut at the offsets
// the kernel's BTF gives, with no bpfleet code in between.
import { execFileSync } from 'node:child_process';

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  vars?: Array<{ type_id: number; offset: number; size: number }>;
}

const bpftool = (args: string[]): unknown =>
  JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));

/** Each variable of the program's .rodata, by name, as the bytes the kernel holds. */
export function rodataOf(progId: number): Map<string, Buffer> {
  const prog = bpftool(['prog', 'show', 'id', String(progId)]) as { map_ids?: number[] };
  const maps = (prog.map_ids ?? []).map(
    (id) => bpftool(['map', 'show', 'id', String(id)]) as { id: number; name: string; btf_id?: number },
  );
  const rodata = maps.find((m) => m.name.endsWith('.rodata'));
  if (!rodata?.btf_id)
    throw new Error(`program ${progId} has no .rodata map with BTF: ${JSON.stringify(maps)}`);
  const [entry] = bpftool(['map', 'dump', 'id', String(rodata.id)]) as Array<{ value: string[] }>;
  const bytes = Buffer.from((entry?.value ?? []).map((b) => Number.parseInt(b, 16)));
  const { types } = bpftool(['btf', 'dump', 'id', String(rodata.btf_id)]) as { types: BtfType[] };
  const byId = new Map(types.map((t) => [t.id, t]));
  const section = types.find((t) => t.kind === 'DATASEC' && t.name === '.rodata');
  const out = new Map<string, Buffer>();
  for (const v of section?.vars ?? []) {
    const name = byId.get(v.type_id)?.name;
    if (name) out.set(name, bytes.subarray(v.offset, v.offset + v.size));
  }
  return out;
}
