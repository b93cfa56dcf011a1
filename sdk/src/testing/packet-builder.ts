// Builds test packets from a small description (eth, VLAN, IPv4/IPv6, UDP/TCP, payload) with correct checksums.
import { BuildError } from '../errors.js';
import { parseIpv4, parseIpv6, parseMac } from '../manifest/addresses.js';

export interface PacketSpec {
  eth?: { src?: string; dst?: string; vlan?: number[]; type?: number };
  ipv4?: { src: string; dst: string; ttl?: number; proto?: number };
  ipv6?: { src: string; dst: string; hopLimit?: number; next?: number };
  udp?: { src: number; dst: number };
  tcp?: { src: number; dst: number; flags?: number; seq?: number };
  /** Payload bytes as hex. */
  payload?: string;
  /** Pad the payload with zeros to make the whole frame this long. */
  size?: number;
}

/** A packet as tests write it: hex bytes or a description. */
export type PacketInput = string | PacketSpec;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

function fail(reason: string): never {
  throw new BuildError('BAD_PACKET', `packet: ${reason}`);
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) fail(`not hex: ${JSON.stringify(hex.slice(0, 40))}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

function addr(parse: (text: string) => Buffer | undefined, text: string, what: string): Buffer {
  return parse(text) ?? fail(`bad ${what} address ${JSON.stringify(text)}`);
}

/** The 16-bit ones' complement sum used by IPv4, UDP and TCP. */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 2) sum += ((part[i] ?? 0) << 8) | (part[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function l4(spec: PacketSpec, payload: Buffer): { proto: number; header: Buffer } | undefined {
  if (spec.udp) {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(spec.udp.src, 0);
    h.writeUInt16BE(spec.udp.dst, 2);
    h.writeUInt16BE(8 + payload.length, 4);
    return { proto: IPPROTO_UDP, header: h };
  }
  if (spec.tcp) {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(spec.tcp.src, 0);
    h.writeUInt16BE(spec.tcp.dst, 2);
    h.writeUInt32BE(spec.tcp.seq ?? 1, 4);
    h[12] = 5 << 4;
    h[13] = spec.tcp.flags ?? 0x02;
    h.writeUInt16BE(65535, 14);
    return { proto: IPPROTO_TCP, header: h };
  }
  return undefined;
}

export function buildPacket(input: PacketInput): Uint8Array {
  if (typeof input === 'string') return fromHex(input);
  const spec = input;
  if (spec.ipv4 && spec.ipv6) fail('ipv4 and ipv6 both given');
  let payload = Buffer.from(spec.payload ? fromHex(spec.payload) : new Uint8Array(0));
  const transport = l4(spec, payload);
  const vlans = spec.eth?.vlan ?? [];
  const l3Length = spec.ipv4 ? 20 : spec.ipv6 ? 40 : 0;
  const headerLength = 14 + vlans.length * 4 + l3Length + (transport?.header.length ?? 0);
  if (spec.size !== undefined && spec.size > headerLength + payload.length) {
    payload = Buffer.concat([payload, Buffer.alloc(spec.size - headerLength - payload.length)]);
    if (transport && transport.proto === IPPROTO_UDP) transport.header.writeUInt16BE(8 + payload.length, 4);
  }
  const l4Bytes = transport ? Buffer.concat([transport.header, payload]) : payload;

  let l3: Buffer = l4Bytes;
  let etherType = spec.eth?.type ?? 0x88b5; // IEEE local experimental, for frames with no IP layer
  if (spec.ipv4) {
    const src = addr(parseIpv4, spec.ipv4.src, 'ipv4');
    const dst = addr(parseIpv4, spec.ipv4.dst, 'ipv4');
    const proto = transport?.proto ?? spec.ipv4.proto ?? 253;
    if (transport) {
      const pseudo = Buffer.concat([
        src,
        dst,
        Buffer.from([0, proto, l4Bytes.length >> 8, l4Bytes.length & 0xff]),
      ]);
      l4Bytes.writeUInt16BE(internetChecksum(pseudo, l4Bytes), proto === IPPROTO_UDP ? 6 : 16);
    }
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + l4Bytes.length, 2);
    h[8] = spec.ipv4.ttl ?? 64;
    h[9] = proto;
    src.copy(h, 12);
    dst.copy(h, 16);
    h.writeUInt16BE(internetChecksum(h), 10);
    l3 = Buffer.concat([h, l4Bytes]);
    etherType = 0x0800;
  } else if (spec.ipv6) {
    const src = addr(parseIpv6, spec.ipv6.src, 'ipv6');
    const dst = addr(parseIpv6, spec.ipv6.dst, 'ipv6');
    const next = transport?.proto ?? spec.ipv6.next ?? 59;
    if (transport) {
      const length = Buffer.alloc(8);
      length.writeUInt32BE(l4Bytes.length, 0);
      length[7] = next;
      l4Bytes.writeUInt16BE(internetChecksum(src, dst, length, l4Bytes), next === IPPROTO_UDP ? 6 : 16);
    }
    const h = Buffer.alloc(40);
    h[0] = 0x60;
    h.writeUInt16BE(l4Bytes.length, 4);
    h[6] = next;
    h[7] = spec.ipv6.hopLimit ?? 64;
    src.copy(h, 8);
    dst.copy(h, 24);
    l3 = Buffer.concat([h, l4Bytes]);
    etherType = 0x86dd;
  }

  const eth = Buffer.alloc(14 + vlans.length * 4);
  addr(parseMac, spec.eth?.dst ?? '02:00:00:00:00:02', 'mac').copy(eth, 0);
  addr(parseMac, spec.eth?.src ?? '02:00:00:00:00:01', 'mac').copy(eth, 6);
  let at = 12;
  for (const tci of vlans) {
    eth.writeUInt16BE(0x8100, at);
    eth.writeUInt16BE(tci, at + 2);
    at += 4;
  }
  eth.writeUInt16BE(etherType, at);
  return Uint8Array.from(Buffer.concat([eth, l3]));
}
