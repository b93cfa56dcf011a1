// The UDP payloads the veth sender offers: every one 100 bytes, so the XDP_DROP/XDP_PASS baselines apply to all.
import { VETH } from './network.mjs';

/** A GTP-U G-PDU (to port 2152): inner IPv4/UDP from a UE to an address nobody owns, 64 payload bytes. */
export function gpdu(teid) {
  const inner = Buffer.alloc(20 + 8 + 64);
  inner[0] = 0x45;
  inner.writeUInt16BE(inner.length, 2);
  inner[8] = 64;
  inner[9] = 17;
  Buffer.from([...VETH.ueAddress, ...VETH.unownedAddress]).copy(inner, 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += inner.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  inner.writeUInt16BE(~sum & 0xffff, 10);
  inner.writeUInt16BE(5000, 20);
  inner.writeUInt16BE(6000, 22);
  inner.writeUInt16BE(8 + 64, 24);
  const g = Buffer.from([0x30, 0xff, 0, inner.length, 0, 0, 0, 0]);
  g.writeUInt32BE(teid, 4);
  return { port: 2152, hex: Buffer.concat([g, inner]).toString('hex') };
}

/** A DNS query (to port 53) for example.com A, padded to the G-PDU's 100 bytes with an EDNS(0) Padding option. */
export function dnsQuery() {
  const header = Buffer.from('123401000001000000000001', 'hex');
  const question = Buffer.from('076578616d706c6503636f6d0000010001', 'hex');
  const fixed = header.length + question.length + 11 + 4;
  const padding = 100 - fixed;
  const opt = Buffer.alloc(11 + 4 + padding);
  opt.writeUInt16BE(41, 1);
  opt.writeUInt16BE(4096, 3);
  opt.writeUInt16BE(4 + padding, 9);
  opt.writeUInt16BE(12, 11);
  opt.writeUInt16BE(padding, 13);
  return { port: 53, hex: Buffer.concat([header, question, opt]).toString('hex') };
}
