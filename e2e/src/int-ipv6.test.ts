// int-telemetry over IPv6 checked by a dissector we did not write: real IPv6 UDP stamped at tcx egress crosses a veth
// into a peer namespace, tcpdump captures it there and Scapy decodes the pcap; the test reads the shim from Scapy's raw
// bytes by the README's layout. Then Scapy sends stamped datagrams back, which int_sink must count and strip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection } from '@bpfleet/sdk/bpf';
import { freePort } from '@bpfleet/sdk/test-kit';
import { captureDecoded, type Decoded, insideOwnNetns, scapyIn, sh } from './fixtures/scapy-capture.js';

const TAG = 'int';
const NS_ENV = 'BPFLEET_INT6_NETNS';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = join(ROOT, 'bpf-programs', 'int-telemetry');
const SCAPY = join(PROGRAM, 'test', 'scapy-int6.py');
const HERE = '2001:db8:142::1';
const PEER = '2001:db8:142::2';
/** Skipped by a receiver that does not know it (the source's default). */
const OPTION_SKIP = 0x3e;
/** Discarded by a receiver that does not know it: only datagrams int_sink stripped reach a socket. */
const OPTION_DISCARD = 0x7e;
const EXT_LEN = 24;
/** int_stats keys. */
const STAMPED = 0;
const STRIPPED = 2;
const SINK_BAD = 3;
const SKIPPED_MTU = 4;

type Int6Decoded = Decoded & { dest_raw?: string };

/** The shim by the README's layout, from the Destination Options header's raw bytes. */
function readExt(hex: string) {
  const b = Buffer.from(hex, 'hex');
  return {
    length: b.length,
    nexthdr: b[0],
    hdrlen: b[1],
    padN: b.subarray(2, 6).toString('hex'),
    optType: b[6],
    optLen: b[7],
    nextProtocol: b[8],
    version: b[9],
    reserved: b.readUInt16BE(10),
    seq: b.readUInt32BE(12),
    sentNs: b.readBigUInt64BE(16),
  };
}

function taiNs(): bigint {
  return BigInt(
    sh('/usr/bin/python3', ['-c', 'import time; print(time.clock_gettime_ns(time.CLOCK_TAI))']).trim(),
  );
}

if (insideOwnNetns(import.meta.url, NS_ENV, `${TAG}-a-${process.pid}`, 4)) {
  const peer = `${TAG}-b-${process.pid}`;
  const out = `${TAG}6o${process.pid % 100000}`;
  const inn = `${TAG}6i${process.pid % 100000}`;
  const work = mkdtempSync(join(tmpdir(), `${TAG}6-`));
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  const object = new Uint8Array(readFileSync(join(PROGRAM, 'build', 'bpf', arch, 'int-telemetry.bpf.o')));
  const inPeer = (cmd: string, args: string[]) => sh('nsenter', [`--net=/run/netns/${peer}`, cmd, ...args]);
  const colls: Collection[] = [];
  const links: Link[] = [];
  let source: Collection;
  let sink: Collection;
  let socket: Socket;
  const received: string[] = [];
  let port = 0;
  let outMac = '';

  before(async () => {
    port = await freePort();
    sh('ip', ['netns', 'add', peer]);
    inPeer('ip', ['link', 'set', 'lo', 'up']);
    sh('ip', ['link', 'add', out, 'type', 'veth', 'peer', 'name', inn, 'netns', peer]);
    sh('ip', ['addr', 'add', `${HERE}/64`, 'dev', out, 'nodad']);
    inPeer('ip', ['addr', 'add', `${PEER}/64`, 'dev', inn, 'nodad']);
    // Full checksums in software: with veth's offload the capture would hold only the pseudo-header sum.
    sh('ethtool', ['-K', out, 'tx', 'off']);
    sh('ip', ['link', 'set', out, 'up']);
    inPeer('ip', ['link', 'set', inn, 'up']);
    // Fixed neighbours: the capture holds only the datagrams, never neighbour discovery.
    const macOf = (json: string) => (JSON.parse(json) as { address: string }[])[0]?.address ?? '';
    outMac = macOf(sh('ip', ['-j', 'link', 'show', out]));
    const inMac = macOf(inPeer('ip', ['-j', 'link', 'show', inn]));
    sh('ip', ['neigh', 'add', PEER, 'lladdr', inMac, 'dev', out, 'nud', 'permanent']);
    inPeer('ip', ['neigh', 'add', HERE, 'lladdr', outMac, 'dev', inn, 'nud', 'permanent']);
    socket = createSocket('udp6');
    socket.on('message', (m) => received.push(m.toString('latin1')));
    await new Promise<void>((resolve) => socket.bind(port, HERE, resolve));
  });

  after(() => {
    socket?.close();
    for (const link of links) link.close();
    for (const coll of colls) coll.close();
    spawnSync('ip', ['netns', 'del', peer]);
    spawnSync('ip', ['link', 'del', out]);
    rmSync(work, { recursive: true, force: true });
  });

  /** Sends `count` datagrams "<tag>-<n>" (padded with '.' to `size` bytes) to the peer. */
  function sendUdp(tag: string, count: number, size = 0, to = port): void {
    const script = `const s=require('node:dgram').createSocket('udp6');let n=0;const next=(e)=>{if(e)throw e;n<${count}?s.send(('${tag}-'+n++).padEnd(${size},'.'),${to},'${PEER}',next):s.close()};next();`;
    sh(process.execPath, ['-e', script]);
  }

  function stat(coll: Collection, action: number): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(action);
    const values = coll.map('int_stats').lookupPerCpu(key) ?? [];
    return values.reduce((sum, v) => sum + Buffer.from(v).readBigUInt64LE(0), 0n);
  }

  /** rx_flows6 / tx_flows6 entries to `dport`: key {src[16], dst[16], src_port, dst_port, protocol} (host order). */
  function flowsTo(coll: Collection, map: string, dport: number): Buffer[] {
    return coll
      .map(map)
      .entries()
      .filter(([k]) => Buffer.from(k).readUInt16LE(34) === dport)
      .map(([, v]) => Buffer.from(v));
  }

  test('Scapy decodes int_source`s IPv6 datagrams as carrying the shim in a Destination Options header, lengths and UDP checksum valid', async () => {
    source = await loadCollection(object, { programs: ['int_source'], config: { match_port: port } });
    colls.push(source);
    links.push(
      await source.program('int_source').attach({ kind: 'tcx', interface: out, direction: 'egress' }),
    );
    const other = await freePort();
    const before = taiNs();
    const decoded = (await captureDecoded(
      { netns: peer, iface: inn, pcap: join(work, 'egress.pcap'), scapy: SCAPY, dport: port },
      () => {
        sendUdp('int', 5);
        sendUdp('other', 2, 0, other);
      },
    )) as Int6Decoded[];
    const afterNs = taiNs();
    assert.deepEqual(
      decoded.map((d) => d.udp?.payload),
      ['int-0', 'int-1', 'int-2', 'int-3', 'int-4'],
    );
    decoded.forEach((d, i) => {
      assert.equal(d.nh, 60, `datagram ${i}: Destination Options first`);
      assert.ok(d.udp?.chksum_ok, `datagram ${i}: UDP checksum valid per Scapy`);
      assert.ok(d.udp?.len_ok && d.plen_ok, `datagram ${i}: UDP and IPv6 payload lengths`);
      assert.equal(d.plen, EXT_LEN + 8 + 'int-0'.length);
      const ext = readExt(d.dest_raw ?? '');
      assert.deepEqual(
        { ...ext, sentNs: undefined },
        {
          length: EXT_LEN,
          nexthdr: 17,
          hdrlen: 2,
          padN: '01020000',
          optType: OPTION_SKIP,
          optLen: 16,
          nextProtocol: 17,
          version: 1,
          reserved: 0,
          seq: i,
          sentNs: undefined,
        },
      );
      assert.ok(
        ext.sentNs >= before && ext.sentNs <= afterNs,
        `datagram ${i}: CLOCK_TAI stamp ${ext.sentNs}`,
      );
      // Scapy's own reading of the options agrees: a PadN, then the INT option holding the shim.
      assert.deepEqual(d.dest, [
        { otype: 1, optlen: 2, optdata: '0000' },
        { otype: OPTION_SKIP, optlen: 16, optdata: (d.dest_raw ?? '').slice(16) },
      ]);
    });
    assert.equal(stat(source, STAMPED), 5n, 'datagrams to another port are not stamped');
    const [tx] = flowsTo(source, 'tx_flows6', port);
    assert.equal(tx?.readBigUInt64LE(0), 5n);
  });

  test('a datagram the header would take past the MTU leaves unstamped and counted; one that fits exactly is stamped', async () => {
    const tooBig = stat(source, SKIPPED_MTU);
    // 1500-byte MTU: 40 + 8 + 1452 fills it; 1428 + 24 fills it exactly.
    const decoded = await captureDecoded(
      { netns: peer, iface: inn, pcap: join(work, 'mtu.pcap'), scapy: SCAPY, dport: port },
      () => {
        sendUdp('full', 1, 1452);
        sendUdp('fits', 1, 1428);
      },
    );
    const full = decoded.find((d) => d.udp?.payload.startsWith('full-0'));
    const fits = decoded.find((d) => d.udp?.payload.startsWith('fits-0'));
    assert.equal(full?.nh, 17, 'the full-size datagram leaves without an extension header');
    assert.ok(full?.udp?.chksum_ok);
    assert.equal(fits?.nh, 60);
    assert.equal(fits?.plen, EXT_LEN + 8 + 1428);
    assert.ok(fits?.udp?.chksum_ok && fits.udp.len_ok && fits.plen_ok);
    assert.equal(stat(source, SKIPPED_MTU), tooBig + 1n);
  });

  test('int_sink counts Scapy`s stamped datagrams (loss and lateness from the sequence) and strips them for the socket', async () => {
    sink = await loadCollection(object, { programs: ['int_sink'], config: { int6_option: OPTION_DISCARD } });
    colls.push(sink);
    links.push(await sink.program('int_sink').attach({ kind: 'tcx', interface: out, direction: 'ingress' }));
    const seqs = ['0', '1', '2', '5', '3'];
    scapyIn(peer, SCAPY, [
      'send',
      inn,
      outMac,
      PEER,
      HERE,
      String(port),
      String(OPTION_DISCARD),
      '1',
      ...seqs,
    ]);
    // Awaited, not slept: the socket's messages arrive on this event loop.
    await delay(300);
    // The option is discard-if-unknown: the stack delivers only what int_sink stripped.
    assert.deepEqual(
      received,
      seqs.map((s) => `scapy-${s}`),
    );
    assert.equal(stat(sink, STRIPPED), 5n);
    const [rx] = flowsTo(sink, 'rx_flows6', port);
    assert.ok(rx, 'a flow in rx_flows6');
    const value = {
      received: rx.readBigUInt64LE(0),
      lost: rx.readBigUInt64LE(8),
      late: rx.readBigUInt64LE(16),
      nextSeq: rx.readUInt32LE(32),
    };
    assert.deepEqual(value, { received: 5n, lost: 2n, late: 1n, nextSeq: 6 });
    // Scapy stamped them with CLOCK_TAI just before sending: a positive latency under a few seconds.
    const latency = rx.readBigUInt64LE(24);
    assert.ok(latency > 0n && latency < 5_000_000_000n, `latency sum ${latency} ns`);
  });

  test('int_sink drops a shim of an unknown version and leaves another option type alone', async () => {
    received.length = 0;
    const bad = stat(sink, SINK_BAD);
    const stripped = stat(sink, STRIPPED);
    scapyIn(peer, SCAPY, ['send', inn, outMac, PEER, HERE, String(port), String(OPTION_DISCARD), '9', '7']);
    scapyIn(peer, SCAPY, ['send', inn, outMac, PEER, HERE, String(port), String(OPTION_SKIP), '1', '8']);
    await delay(300);
    assert.equal(stat(sink, SINK_BAD), bad + 1n);
    assert.equal(stat(sink, STRIPPED), stripped, 'nothing stripped');
    // The skip-if-unknown option reaches the socket through the stack untouched by int_sink; version 9 never does.
    assert.deepEqual(received, ['scapy-8']);
  });
}
