// gtpu-lite's IPv6 transport checked by a dissector we did not write: downlink to a UE crosses a veth, gtpu-lite tunnels
// it over IPv6 back to the gNB's namespace, tcpdump captures it there and Scapy's GTP-U layer decodes it; then Scapy
// sends G-PDUs over IPv6 that gtpu-lite must decapsulate to sockets here and count. Runs in its own namespace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection } from '@bpfleet/sdk/bpf';
import { freePort } from '@bpfleet/sdk/test-kit';
import { captureDecoded, insideOwnNetns, scapyIn, sh } from './fixtures/scapy-capture.js';

const TAG = 'gtp';
const NS_ENV = 'BPFLEET_GTPU6_NETNS';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = join(ROOT, 'bpf-programs', 'gtpu-lite');
const SCAPY = join(PROGRAM, 'test', 'scapy-gtpu.py');
// This host's N3 side and the gNB's; the UE sits behind this host, outside the link's /25.
const HERE4 = '198.18.141.1';
const GNB4 = '198.18.141.2';
const UE4 = '198.18.141.200';
const HERE6 = '2001:db8:141::1';
const GNB6 = '2001:db8:141::2';
const UE6 = '2001:db8:141:1::200';
const DL_TEID = 0x4242;
const DL6_TEID = 0x4343;
const UL_TEID = 0x100;
const QFI = 9;

/** What scripts/scapy-gtpu.py prints for one captured packet. */
interface GtpDecoded {
  src: string;
  dst: string;
  nh: number;
  hlim: number;
  plen: number;
  plen_ok: boolean;
  udp: { sport: number; dport: number; chksum_ok: boolean; len_ok: boolean };
  gtp?: {
    version: number;
    pt: number;
    e: number;
    type: number;
    teid: number;
    length_ok: boolean;
    qfi: number | null;
    pdu_type: number | null;
    inner: { version: number; src: string; dst: string; dport?: number; payload?: string } | null;
  };
}

if (insideOwnNetns(import.meta.url, NS_ENV, `${TAG}-a-${process.pid}`, 4)) {
  const peer = `${TAG}-b-${process.pid}`;
  const out = `${TAG}6o${process.pid % 100000}`;
  const inn = `${TAG}6i${process.pid % 100000}`;
  const work = mkdtempSync(join(tmpdir(), `${TAG}6-`));
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  const object = new Uint8Array(readFileSync(join(PROGRAM, 'build', 'bpf', arch, 'gtpu-lite.bpf.o')));
  const inPeer = (cmd: string, args: string[]) => sh('nsenter', [`--net=/run/netns/${peer}`, cmd, ...args]);
  const macOf = (json: string) => (JSON.parse(json) as { address: string }[])[0]?.address ?? '';
  let coll: Collection | undefined;
  let link: Link | undefined;
  let outMac = '';
  let port = 0;

  before(async () => {
    port = await freePort();
    sh('ip', ['netns', 'add', peer]);
    inPeer('ip', ['link', 'set', 'lo', 'up']);
    sh('ip', ['link', 'add', out, 'type', 'veth', 'peer', 'name', inn, 'netns', peer]);
    sh('ip', ['addr', 'add', `${HERE4}/25`, 'dev', out]);
    sh('ip', ['addr', 'add', `${HERE6}/64`, 'dev', out, 'nodad']);
    inPeer('ip', ['addr', 'add', `${GNB4}/25`, 'dev', inn]);
    inPeer('ip', ['addr', 'add', `${GNB6}/64`, 'dev', inn, 'nodad']);
    // The gNB's datagrams carry whole checksums (veth offload would leave only the pseudo-header sum inside them).
    inPeer('ethtool', ['-K', inn, 'tx', 'off']);
    sh('ip', ['link', 'set', out, 'up']);
    inPeer('ip', ['link', 'set', inn, 'up']);
    outMac = macOf(sh('ip', ['-j', 'link', 'show', out]));
    const inMac = macOf(inPeer('ip', ['-j', 'link', 'show', inn]));
    // Fixed neighbours: the capture holds only the tunnels, never neighbour discovery.
    sh('ip', ['neigh', 'add', GNB4, 'lladdr', inMac, 'dev', out, 'nud', 'permanent']);
    sh('ip', ['neigh', 'add', GNB6, 'lladdr', inMac, 'dev', out, 'nud', 'permanent']);
    inPeer('ip', ['neigh', 'add', HERE4, 'lladdr', outMac, 'dev', inn, 'nud', 'permanent']);
    inPeer('ip', ['neigh', 'add', HERE6, 'lladdr', outMac, 'dev', inn, 'nud', 'permanent']);
    inPeer('ip', ['route', 'add', `${UE4}/32`, 'via', HERE4]);
    inPeer('ip', ['-6', 'route', 'add', `${UE6}/128`, 'via', HERE6]);
    sh('ip', ['route', 'add', `${UE4}/32`, 'via', GNB4]);

    coll = await loadCollection(object, {
      config: { n3_address6: ipv6Bytes(HERE6), downlink_tx: true },
    });
    // struct gtpu_downlink6: teid u32, gnb[16], session u32, qfi u8, padded to 28 bytes.
    const value = Buffer.alloc(28);
    value.writeUInt32LE(DL_TEID, 0);
    value.set(ipv6Bytes(GNB6), 4);
    value.writeUInt32LE(7, 20);
    value.writeUInt8(QFI, 24);
    coll.map('downlink_v6_tunnels').update(Buffer.from(UE4.split('.').map(Number)), value);
    // The IPv6 UE: same struct, no QFI (4G style, no extension header).
    const value6 = Buffer.alloc(28);
    value6.writeUInt32LE(DL6_TEID, 0);
    value6.set(ipv6Bytes(GNB6), 4);
    value6.writeUInt32LE(8, 20);
    coll.map('downlink_ues6').update(ipv6Bytes(UE6), value6);
    coll.map('uplink_teids').update(u32(UL_TEID), u32(1));
    // Generic mode: XDP_TX on a veth in driver mode needs an XDP program on the peer too.
    link = await coll.program('gtpu_fast_path').attach({ kind: 'xdp', interface: out, mode: 'generic' });
  });

  after(() => {
    link?.close();
    coll?.close();
    spawnSync('ip', ['netns', 'del', peer]);
    spawnSync('ip', ['link', 'del', out]);
    rmSync(work, { recursive: true, force: true });
  });

  function u32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  }

  function ipv6Bytes(addr: string): Uint8Array {
    const [head = '', tail = ''] = addr.split('::');
    const words = (s: string) => (s ? s.split(':').map((w) => Number.parseInt(w, 16)) : []);
    const h = words(head);
    const t = words(tail);
    const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
    const b = Buffer.alloc(16);
    for (const [i, w] of all.entries()) b.writeUInt16BE(w, i * 2);
    return b;
  }

  function counted(map: string, key: number, field = 0): bigint {
    const values = coll?.map(map).lookupPerCpu(u32(key)) ?? [];
    return values.reduce((sum, v) => sum + Buffer.from(v).readBigUInt64LE(field * 8), 0n);
  }

  /** Sends datagrams "<tag>-<n>" (padded with '.' to `size` bytes) from the gNB's namespace to the UE (or `ue`). */
  function sendToUe(tag: string, count: number, size = 0, ue = UE4): void {
    const type = ue.includes(':') ? 'udp6' : 'udp4';
    const script = `const s=require('node:dgram').createSocket('${type}');let n=0;const next=(e)=>{if(e)throw e;n<${count}?s.send(('${tag}-'+n++).padEnd(${size},'.'),${port},'${ue}',next):s.close()};next();`;
    inPeer(process.execPath, ['-e', script]);
  }

  async function capturedTunnels(name: string, send: () => void): Promise<GtpDecoded[]> {
    const decoded = await captureDecoded(
      { netns: peer, iface: inn, pcap: join(work, `${name}.pcap`), scapy: SCAPY, dport: 2152 },
      send,
    );
    return decoded as unknown as GtpDecoded[];
  }

  test('Scapy decodes the downlink as GTP-U/UDP/IPv6 to the gNB: TEID, G-PDU, length, QFI, valid UDP checksum', async () => {
    const decoded = await capturedTunnels('downlink', () => sendToUe('dl', 3));
    assert.deepEqual(decoded.map((d) => d.gtp?.inner?.payload).sort(), ['dl-0', 'dl-1', 'dl-2']);
    for (const d of decoded) {
      assert.equal(d.src, HERE6, 'outer source: n3_address6');
      assert.equal(d.dst, GNB6, 'outer destination: the gNB');
      assert.equal(d.nh, 17);
      assert.equal(d.hlim, 64);
      assert.ok(d.plen_ok && d.udp.len_ok, 'IPv6 payload and UDP lengths');
      assert.equal(d.udp.sport, 2152);
      assert.ok(d.udp.chksum_ok, 'UDP checksum over IPv6 as Scapy computes it');
      assert.equal(d.gtp?.version, 1);
      assert.equal(d.gtp?.pt, 1);
      assert.equal(d.gtp?.type, 0xff, 'G-PDU');
      assert.equal(d.gtp?.teid, DL_TEID);
      assert.ok(d.gtp?.length_ok, 'GTP-U length');
      assert.equal(d.gtp?.e, 1);
      assert.equal(d.gtp?.qfi, QFI);
      assert.equal(d.gtp?.pdu_type, 0, 'DL PDU SESSION INFORMATION');
      assert.deepEqual(
        [d.gtp?.inner?.version, d.gtp?.inner?.src, d.gtp?.inner?.dst, d.gtp?.inner?.dport],
        [4, GNB4, UE4, port],
      );
    }
    assert.equal(counted('sessions', 7, 2), 3n, 'session 7 dl_packets');
  });

  test('downlink to an IPv6 UE is GTP-U/UDP/IPv6 to the gNB for Scapy: its TEID, no extension header, the inner IPv6', async () => {
    const decoded = await capturedTunnels('downlink6', () => sendToUe('dl6', 2, 0, UE6));
    assert.deepEqual(decoded.map((d) => d.gtp?.inner?.payload).sort(), ['dl6-0', 'dl6-1']);
    for (const d of decoded) {
      assert.deepEqual([d.src, d.dst, d.udp.sport, d.udp.dport], [HERE6, GNB6, 2152, 2152]);
      assert.ok(d.udp.chksum_ok && d.udp.len_ok && d.plen_ok, 'UDP checksum and lengths');
      assert.deepEqual([d.gtp?.type, d.gtp?.teid, d.gtp?.e, d.gtp?.qfi], [0xff, DL6_TEID, 0, null]);
      assert.ok(d.gtp?.length_ok, 'GTP-U length');
      assert.deepEqual(
        [d.gtp?.inner?.version, d.gtp?.inner?.src, d.gtp?.inner?.dst, d.gtp?.inner?.dport],
        [6, GNB6, UE6, port],
      );
    }
    assert.equal(counted('sessions', 8, 2), 2n, 'session 8 dl_packets');
  });

  test('a downlink packet the tunnel would take past n3_mtu is left as is and counted; one that fills it exactly goes', async () => {
    const tooBig = counted('stats', 6);
    // 20 + 8 + 1408 inner bytes + 64 (IPv6, UDP, GTP-U, PDU Session Container) = 1500.
    const decoded = await capturedTunnels('mtu', () => {
      sendToUe('fits', 1, 1408);
      sendToUe('big', 1, 1409);
    });
    assert.deepEqual(
      decoded.map((d) => d.gtp?.inner?.payload?.slice(0, 6)),
      ['fits-0'],
      'only the packet that fits is tunnelled',
    );
    assert.equal(decoded[0]?.plen, 1460);
    assert.ok(decoded[0]?.udp.chksum_ok, 'checksum over a full-size packet');
    assert.equal(counted('stats', 6), tooBig + 1n, 'pass_too_big');
  });

  test('G-PDUs that Scapy sends over IPv6 reach sockets here as their inner IPv4 and IPv6; unknown TEIDs are dropped', async () => {
    const decap = counted('stats', 0);
    const unknown = counted('stats', 2);
    const got: string[] = [];
    const bind = (type: 'udp4' | 'udp6', host: string) =>
      new Promise<Socket>((resolve) => {
        const s = createSocket(type);
        s.on('message', (m) => got.push(m.toString()));
        s.bind(port, host, () => resolve(s));
      });
    const sockets = [await bind('udp4', HERE4), await bind('udp6', HERE6)];
    try {
      const send = (teid: number, family: string, src: string, dst: string, tag: string, n: number) =>
        scapyIn(peer, SCAPY, [
          'send',
          inn,
          outMac,
          GNB6,
          HERE6,
          String(teid),
          family,
          src,
          dst,
          String(port),
          tag,
          String(n),
        ]);
      send(UL_TEID, '4', UE4, HERE4, 'v4', 3);
      send(UL_TEID, '6', UE6, HERE6, 'v6', 2);
      send(0x999, '4', UE4, HERE4, 'stray', 2);
      for (let i = 0; i < 100 && got.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      for (const s of sockets) s.close();
    }
    assert.deepEqual(got.sort(), ['v4-0', 'v4-1', 'v4-2', 'v6-0', 'v6-1']);
    assert.equal(counted('stats', 0) - decap, 5n, 'decap');
    assert.equal(counted('stats', 2) - unknown, 2n, 'drop_unknown_teid');
    assert.equal(counted('sessions', 1, 0), 5n, 'session 1 ul_packets');
  });
}
