// Opens an ELF object from bytes in memory and reads programs, maps and variables from the handle.
import { BpfError } from '../../errors.js';
import { boundedTail, reasons } from '../load-failure.js';
import { sectionInfo } from '../section.js';
import { type ConfigValue, readVariables, type VariableSpec } from './datasec.js';
import { errnoName } from './fd.js';
import {
  allocNative,
  assertKnownAbi,
  initialValue,
  libbpf,
  libbpfStrerror,
  type MapHandle,
  type NativeMemory,
  type ObjectHandle,
  openMem,
  type ProgramHandle,
  warningMark,
  warningsSince,
} from './libbpf.js';

/** An opened (not loaded) object; the ELF bytes must outlive the handle, so both close together. */
export interface OpenObject {
  readonly obj: ObjectHandle;
  close(): void;
}

export function openObject(bytes: Uint8Array, name: string, pinRoot?: string, btfPath?: string): OpenObject {
  assertKnownAbi();
  const mem: NativeMemory = allocNative(Math.max(1, bytes.length));
  mem.bytes().set(bytes);
  const mark = warningMark();
  const { obj, errno } = openMem(mem, name, pinRoot, btfPath);
  if (!obj) {
    mem.free();
    const warnings = warningsSince(mark);
    const why = reasons(warnings).slice(0, 3).join('; ');
    throw new BpfError(
      'OBJECT_INVALID',
      `open ${name}: ${errnoName(errno)} (${libbpfStrerror(errno)})${why ? `: libbpf: ${why}` : ''}`,
      { warnings: boundedTail(warnings) },
    );
  }
  // libbpf 1.1 does not know tcx SEC names: give those programs their type before anyone reads it.
  for (const prog of programsOf(obj)) {
    const info = sectionInfo(libbpf.programSection(prog), '');
    if (info.forceType !== undefined) libbpf.programSetType(prog, info.forceType);
  }
  let closed = false;
  return {
    obj,
    close() {
      if (closed) return;
      closed = true;
      libbpf.objectClose(obj);
      mem.free();
    },
  };
}

export function programsOf(obj: ObjectHandle): ProgramHandle[] {
  const out: ProgramHandle[] = [];
  for (let p = libbpf.objectNextProgram(obj, null); p; p = libbpf.objectNextProgram(obj, p)) out.push(p);
  return out;
}

export function mapsOf(obj: ObjectHandle): MapHandle[] {
  const out: MapHandle[] = [];
  for (let m = libbpf.objectNextMap(obj, null); m; m = libbpf.objectNextMap(obj, m)) out.push(m);
  return out;
}

/** The section a libbpf internal map stands for (`xdp_coun.rodata` → `.rodata`). */
export function internalSection(mapName: string): string | undefined {
  const dot = mapName.indexOf('.');
  return dot < 0 ? undefined : mapName.slice(dot);
}

export function variablesOf(obj: ObjectHandle): VariableSpec[] {
  const btf = libbpf.objectBtf(obj);
  if (!btf) return [];
  const out: VariableSpec[] = [];
  for (const map of mapsOf(obj)) {
    if (!libbpf.mapIsInternal(map)) continue;
    const section = internalSection(libbpf.mapName(map));
    const initial = initialValue(map);
    if (!section || !initial) continue;
    out.push(...readVariables(btf, section, initial));
  }
  return out;
}

export type { ConfigValue, VariableSpec };
