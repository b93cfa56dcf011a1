// IPv4, IPv6 and MAC text ⇄ bytes (network order), strict: no zones, no leading zeros in IPv4 octets.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export function parseIpv4(text: string): Buffer | undefined {
  if (!IPV4.test(text)) return undefined;
  return Buffer.from(text.split('.').map(Number));
}

export function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

export function parseMac(text: string): Buffer | undefined {
  if (!MAC.test(text)) return undefined;
  return Buffer.from(text.replaceAll(':', ''), 'hex');
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

function parseHextets(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return undefined;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!HEXTET.test(part)) return undefined;
      out.push(Number.parseInt(part, 16));
    }
  }
  return out;
}

/** RFC 4291 text forms, including `::` and a dotted IPv4 tail. */
export function parseIpv6(text: string): Buffer | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseHextets(halves[0] ?? '');
  const tail = halves.length === 2 ? parseHextets(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  // A dotted IPv4 part is only allowed at the very end.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const hextets = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = Buffer.alloc(16);
  for (const [i, h] of hextets.entries()) bytes.writeUInt16BE(h, i * 2);
  return bytes;
}

/** RFC 5952 canonical text: lowercase, longest run (≥ 2) of zero hextets compressed, first on a tie. */
export function formatIpv6(bytes: Uint8Array): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const hextets = Array.from({ length: 8 }, (_, i) => view.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((h) => h.toString(16)).join(':');
  if (bestStart < 0) return hex(hextets);
  return `${hex(hextets.slice(0, bestStart))}::${hex(hextets.slice(bestStart + bestLength))}`;
}
