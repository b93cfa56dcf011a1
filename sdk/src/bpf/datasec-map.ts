// A `.bss`/`.data` map read by the BTF the kernel holds for it: each global variable's current bytes by name.
import { BpfError } from '../errors.js';
import { readVariables } from './internal/datasec.js';
import { errnoName } from './internal/fd.js';
import { errno, libbpf, objInfo } from './internal/libbpf.js';
import type { BpfMap } from './map.js';

/** Where struct bpf_map_info keeps the map's BTF object id (after name, ifindex, vmlinux value type, netns). */
const BTF_ID_OFFSET = 64;

/**
 * The variables of an internal data map (`<obj>.bss`, `.data`) and their bytes now, at the offsets its BTF
 * DATASEC gives: a program's globals as it last wrote them. Works from a pin, also after the loader restarted.
 */
export function readDataSection(map: BpfMap, section: string): Map<string, Uint8Array> {
  const { rc, info } = objInfo(map.fd, 128);
  if (rc < 0)
    throw new BpfError(
      `MAP_${errnoName(errno())}`,
      `read ${section} of map ${map.name}: info: ${errnoName(errno())}`,
    );
  const btfId = new DataView(info.buffer, info.byteOffset).getUint32(BTF_ID_OFFSET, true);
  if (btfId === 0)
    throw new BpfError(
      'BTF_MISSING',
      `read ${section} of map ${map.name}: the map has no BTF (built without -g?)`,
    );
  const value = map.lookup(new Uint8Array(4));
  if (!value) throw new BpfError('MAP_EMPTY', `read ${section} of map ${map.name}: no value at key 0`);
  const btf = libbpf.btfLoadFromKernelById(btfId);
  if (!btf)
    throw new BpfError(
      `BTF_${errnoName(errno())}`,
      `read ${section} of map ${map.name}: BTF ${btfId}: ${errnoName(errno())}`,
    );
  try {
    const out = new Map<string, Uint8Array>();
    for (const v of readVariables(btf, section, value))
      out.set(v.name, value.slice(v.offset, v.offset + v.size));
    if (out.size === 0)
      throw new BpfError(
        'BTF_NO_DATASEC',
        `read ${section} of map ${map.name}: its BTF has no ${section} variables`,
      );
    return out;
  } finally {
    libbpf.btfFree(btf);
  }
}
