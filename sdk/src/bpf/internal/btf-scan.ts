// Finds the first typedef whose name has a prefix (a `btf_trace_*` tracepoint) in raw BTF, reading only what it needs.

/** Positioned reads of a raw BTF blob: `read` returns at most `length` bytes at `offset` (fewer at the end). */
export type BtfRead = (offset: number, length: number) => Uint8Array;

const KIND_TYPEDEF = 8;

/** Bytes that follow a type's 12-byte header, by kind (include/uapi/linux/btf.h). */
function trailer(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return 12 * vlen;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return 8 * vlen;
    default:
      return 0;
  }
}

interface Header {
  le: boolean;
  typeStart: number;
  typeEnd: number;
  strStart: number;
  strEnd: number;
}

function header(read: BtfRead): Header | undefined {
  const h = read(0, 24);
  if (h.length < 24) return undefined;
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const le = view.getUint16(0, true) === 0xeb9f;
  if (!le && view.getUint16(0, false) !== 0xeb9f) return undefined;
  const hdrLen = view.getUint32(4, le);
  const typeStart = hdrLen + view.getUint32(8, le);
  const strStart = hdrLen + view.getUint32(16, le);
  return {
    le,
    typeStart,
    typeEnd: typeStart + view.getUint32(12, le),
    strStart,
    strEnd: strStart + view.getUint32(20, le),
  };
}

/** The offset (in the string section) and text of the first name starting with `prefix`. */
function firstName(
  read: BtfRead,
  h: Header,
  prefix: string,
  chunkSize: number,
): { offset: number; name: string } | undefined {
  const needle = Buffer.from(`\0${prefix}`);
  let carry = Buffer.alloc(0);
  let carryStart = h.strStart;
  for (let pos = h.strStart; pos < h.strEnd; ) {
    const chunk = read(pos, Math.min(chunkSize, h.strEnd - pos));
    if (chunk.length === 0) return undefined;
    pos += chunk.length;
    const window = Buffer.concat([carry, chunk]);
    const at = window.indexOf(needle);
    const end = at < 0 ? -1 : window.indexOf(0, at + 1);
    if (at >= 0 && end >= 0) {
      return { offset: carryStart + at + 1 - h.strStart, name: window.toString('utf8', at + 1, end) };
    }
    // Keep the unfinished tail so a name split across two reads is still found whole.
    const keep = at >= 0 ? window.length - at : Math.min(window.length, needle.length + 256);
    carry = window.subarray(window.length - keep);
    carryStart += window.length - keep;
  }
  return undefined;
}

/**
 * The id and name of the first TYPEDEF whose name starts with `prefix`, or undefined. Reads the string section
 * up to that name and the type section up to that type: for `btf_trace_` about 200 KiB of the kernel's 5 MiB,
 * where a full parse (libbpf's `btf__load_vmlinux_btf`) takes 90 ms here.
 */
export function findTypedefWithPrefix(
  read: BtfRead,
  prefix: string,
  chunkSize = 64 * 1024,
): { id: number; name: string } | undefined {
  const h = header(read);
  if (!h) return undefined;
  const wanted = firstName(read, h, prefix, chunkSize);
  if (!wanted) return undefined;
  let buf = Buffer.alloc(0);
  let bufStart = h.typeStart;
  let next = h.typeStart;
  let pos = h.typeStart;
  for (let id = 1; pos + 12 <= h.typeEnd; id++) {
    while (pos + 12 > bufStart + buf.length && next < h.typeEnd) {
      // `buf` holds [bufStart, next); keep from the current type on (a long trailer may skip past it).
      const more = read(next, Math.min(chunkSize, h.typeEnd - next));
      if (more.length === 0) return undefined;
      const keepFrom = Math.min(pos, next);
      buf = Buffer.concat([buf.subarray(keepFrom - bufStart), more]);
      bufStart = keepFrom;
      next += more.length;
    }
    if (pos + 12 > bufStart + buf.length) return undefined;
    const nameOff = h.le ? buf.readUInt32LE(pos - bufStart) : buf.readUInt32BE(pos - bufStart);
    const info = h.le ? buf.readUInt32LE(pos - bufStart + 4) : buf.readUInt32BE(pos - bufStart + 4);
    const kind = (info >>> 24) & 0x1f;
    if (nameOff === wanted.offset && kind === KIND_TYPEDEF) return { id, name: wanted.name };
    pos += 12 + trailer(kind, info & 0xffff);
  }
  return undefined;
}
