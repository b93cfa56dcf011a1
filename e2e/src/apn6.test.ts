// apn-tagger's APN6 option checked by a dissector we did not write: real IPv6 UDP from a tagged cgroup crosses a veth
// into a peer namespace, tcpdump captures it there and Scapy decodes the pcap; then Scapy sends APN6 packets back,
// and apn_read counts their APN ID. Runs inside its own namespace (the loader attaches where it runs).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection } from '@bpfleet/sdk/bpf';
import { freePort } from '@bpfleet/sdk/test-kit';
import { captureDecoded, type Decoded, insideOwnNetns, scapyIn, sh } from './fixtures/scapy-capture.js';
import { cgroup2Root } from './truth/truth-device.js';

const TAG = 'apn';
const NS_ENV = 'BPFLEET_APN6_NETNS';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = join(ROOT, 'bpf-programs', 'apn-tagger');
const SCAPY = join(PROGRAM, 'test', 'scapy-apn6.py');
const APN_ID = 0x8a0c0de5;
const OPTION_TYPE = 0x1e;
const HERE = '2001:db8:138::1';
const PEER = '2001:db8:138::2';

if (insideOwnNetns(import.meta.url, NS_ENV, `${TAG}-a-${process.pid}`, 5)) {
  const peer = `${TAG}-b-${process.pid}`;
  const out = `${TAG}6o${process.pid % 100000}`;
  const inn = `${TAG}6i${process.pid % 100000}`;
  const cgroup = join(cgroup2Root(), `${TAG}6-${process.pid}`);
  const work = mkdtempSync(join(tmpdir(), `${TAG}6-`));
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  const object = new Uint8Array(readFileSync(join(PROGRAM, 'build', 'bpf', arch, 'apn-tagger.bpf.o')));
  const inPeer = (cmd: string, args: string[]) => sh('nsenter', [`--net=/run/netns/${peer}`, cmd, ...args]);
  const colls: Collection[] = [];
  const links: Link[] = [];
  let tagger: Collection;
  let hbhLink: Link;
  let port = 0;

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
    const outMac = macOf(sh('ip', ['-j', 'link', 'show', out]));
    const inMac = macOf(inPeer('ip', ['-j', 'link', 'show', inn]));
    sh('ip', ['neigh', 'add', PEER, 'lladdr', inMac, 'dev', out, 'nud', 'permanent']);
    inPeer('ip', ['neigh', 'add', HERE, 'lladdr', outMac, 'dev', inn, 'nud', 'permanent']);
    mkdirSync(cgroup);
  });

  after(() => {
    for (const link of links) link.close();
    for (const coll of colls) coll.close();
    spawnSync('ip', ['netns', 'del', peer]);
    spawnSync('ip', ['link', 'del', out]);
    try {
      rmdirSync(cgroup);
    } catch {}
    rmSync(work, { recursive: true, force: true });
  });

  /** Sends `count` datagrams "<tag>-<n>" (padded with '.' to `size` bytes) to the peer from a process in
   * `cgroupDir` (or this test's own cgroup). */
  function sendUdp(tag: string, count: number, cgroupDir?: string, size = 0): void {
    const script = `const s=require('node:dgram').createSocket('udp6');let n=0;const next=(e)=>{if(e)throw e;n<${count}?s.send(('${tag}-'+n++).padEnd(${size},'.'),${port},'${PEER}',next):s.close()};next();`;
    const join = cgroupDir ? `echo $$ > ${cgroupDir}/cgroup.procs && ` : '';
    sh('sh', ['-c', `${join}exec "$0" -e "$1"`, process.execPath, script]);
  }

  /** The APN ID as the map's u32 (host order, little-endian here). */
  function idLE(id: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(id);
    return b;
  }

  function eventCount(coll: Collection, event: number): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(event);
    return perCpuPackets(coll.map('apn6_events').lookupPerCpu(key));
  }

  /** apn6_events as "event:count" pairs, for failure messages. */
  function events(coll: Collection): string {
    const pairs: string[] = [];
    for (let k = 0; k < 7; k++) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(k);
      pairs.push(`${k}:${perCpuPackets(coll.map('apn6_events').lookupPerCpu(key))}`);
    }
    const tagged = Buffer.alloc(4);
    tagged.writeUInt32LE(APN_ID);
    return `${pairs.join(' ')} tagged:${perCpuPackets(coll.map('tagged').lookupPerCpu(tagged))}`;
  }

  /** Captures on the peer while `send` runs; Scapy's view of the packets to `dport`. */
  function captured(name: string, send: () => void | Promise<void>, tcpdump: string[] = [], dport = port) {
    return captureDecoded(
      { netns: peer, iface: inn, pcap: join(work, `${name}.pcap`), scapy: SCAPY, dport, tcpdump },
      send,
    );
  }

  function perCpuPackets(values: Uint8Array[] | undefined): bigint {
    return (values ?? []).reduce((sum, v) => sum + Buffer.from(v).readBigUInt64LE(0), 0n);
  }

  test('Scapy decodes the tagged app`s datagrams as carrying the configured APN ID in the Hop-by-Hop option; others carry none', async () => {
    tagger = await loadCollection(object, {
      programs: ['apn_tag'],
      config: { apn6_carrier: 1, cgroup_level: 0 },
    });
    colls.push(tagger);
    const key = Buffer.alloc(8);
    key.writeBigUInt64LE(BigInt(statSync(cgroup).ino));
    tagger.map('tagged_apps').update(key, Buffer.from([...idLE(APN_ID), 46, 0, 0, 0]));
    hbhLink = await tagger.program('apn_tag').attach({ kind: 'tcx', interface: out, direction: 'egress' });
    links.push(hbhLink);

    const decoded = await captured('egress', () => {
      sendUdp('tagged', 3, cgroup);
      sendUdp('plain', 2);
    });
    const payloads = decoded.map((d) => d.udp?.payload).sort();
    assert.deepEqual(payloads, ['plain-0', 'plain-1', 'tagged-0', 'tagged-1', 'tagged-2']);
    const idBytes = Buffer.alloc(4);
    idBytes.writeUInt32BE(APN_ID);
    for (const d of decoded) {
      assert.ok(d.udp?.chksum_ok, `${d.udp?.payload}: UDP checksum valid per Scapy`);
      assert.ok(d.udp?.len_ok && d.plen_ok, `${d.udp?.payload}: UDP and IPv6 payload lengths`);
      if (d.udp?.payload.startsWith('tagged')) {
        assert.equal(d.nh, 0, `${d.udp.payload}: Hop-by-Hop first; events ${events(tagger)}`);
        const apn = d.hbh?.find((o) => o.otype === OPTION_TYPE);
        assert.ok(apn, `${d.udp.payload}: APN option among ${JSON.stringify(d.hbh)}`);
        assert.equal(apn.optlen, 8);
        // APN-ID-Type 1 (32-bit), Flags 0, APN-Para-Type 0, APN-ID.
        assert.equal(apn.optdata, `01000000${idBytes.toString('hex')}`);
      } else {
        assert.equal(d.nh, 17, `${d.udp?.payload}: untagged app's datagram has no extension header`);
        assert.equal(d.hbh, undefined);
      }
    }
  });

  test('a datagram that the option would take past the MTU leaves untagged and counted; one that fits exactly is tagged', async () => {
    const skippedBefore = eventCount(tagger, 2);
    // 1500-byte MTU: 40 (IPv6) + 8 (UDP) + 1452 fills it, so 16 more bytes cannot go; 1436 + 16 fills it exactly.
    const decoded = await captured('mtu', () => {
      sendUdp('full', 1, cgroup, 1452);
      sendUdp('fits', 1, cgroup, 1436);
    });
    const full = decoded.find((d) => d.udp?.payload.startsWith('full-0'));
    const fits = decoded.find((d) => d.udp?.payload.startsWith('fits-0'));
    assert.equal(full?.nh, 17, 'the full-size datagram leaves without an extension header');
    assert.ok(full?.udp?.chksum_ok);
    assert.equal(fits?.nh, 0, 'the datagram that fits carries the Hop-by-Hop header');
    assert.equal(fits?.plen, 8 + 1436 + 16);
    assert.ok(fits?.udp?.chksum_ok && fits.udp.len_ok && fits.plen_ok);
    assert.equal(eventCount(tagger, 2), skippedBefore + 1n, `events ${events(tagger)}`);
  });

  test('a tagged app`s TCP stream, in GSO super-packets at tcx egress, arrives whole with the option on every data packet', async () => {
    // Offload on for this one: the stack hands tcx GSO packets, which the insert grows and whose MSS it lowers by 16.
    sh('ethtool', ['-K', out, 'tx', 'on', 'sg', 'on', 'tso', 'on']);
    try {
      const tcpPort = await freePort();
      const size = 400_000;
      const server = spawn(
        'nsenter',
        [
          `--net=/run/netns/${peer}`,
          process.execPath,
          '-e',
          `let got=0;require('node:net').createServer((c)=>{c.on('data',(d)=>{got+=d.length});c.on('end',()=>{console.log(got);process.exit(0)})}).listen(${tcpPort},'${PEER}',()=>console.log('ready'))`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let said = '';
      const closed = new Promise<void>((resolve) => server.on('close', () => resolve()));
      await new Promise<void>((resolve) =>
        server.stdout?.on('data', (d: Buffer) => {
          said += d.toString();
          if (said.includes('ready')) resolve();
        }),
      );
      const inserted = eventCount(tagger, 0);
      const decoded = await captured(
        'tcp',
        async () => {
          const client = `const c=require('node:net').connect(${tcpPort},'${PEER}',()=>c.end(Buffer.alloc(${size},97)));c.on('close',()=>process.exit(0));c.resume();`;
          sh('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$0" -e "$1"`, process.execPath, client]);
          await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
        },
        ['-s', '160'],
        tcpPort,
      );
      if (server.exitCode === null) server.kill('SIGKILL');
      assert.equal(said.trim().split('\n').pop(), String(size), 'the peer received the whole stream');
      const data = decoded.filter((d) => (d.tcp?.payload_len ?? 0) > 0);
      assert.ok(data.length > 0, 'data packets captured');
      const carried = data.reduce((sum, d) => sum + (d.tcp?.payload_len ?? 0), 0);
      assert.ok(carried >= size, `captured payload ${carried} covers the stream`);
      for (const d of data) {
        assert.equal(d.nh, 0, `a data packet of ${d.tcp?.payload_len} bytes without the option`);
        assert.ok(d.hbh?.some((o) => o.otype === OPTION_TYPE));
      }
      const grew = eventCount(tagger, 0) - inserted;
      assert.ok(grew > 0n, `events ${events(tagger)}`);
      // veth passes GSO packets on unsegmented: a data packet above one MSS shows that tcx grew a GSO packet.
      const largest = Math.max(...data.map((d) => d.tcp?.payload_len ?? 0));
      assert.ok(
        largest > 1500,
        `largest data packet ${largest} bytes: no GSO packet went through the insert`,
      );
    } finally {
      sh('ethtool', ['-K', out, 'tx', 'off']);
    }
  });

  test('with apn6_carrier 2 Scapy finds the same option in a Destination Options header', async () => {
    const dest = await loadCollection(object, { programs: ['apn_tag'], config: { apn6_carrier: 2 } });
    colls.push(dest);
    const key = Buffer.alloc(8);
    key.writeBigUInt64LE(BigInt(statSync(cgroup).ino));
    dest.map('tagged_apps').update(key, Buffer.from([...idLE(APN_ID), 46, 0, 0, 0]));
    // The Hop-by-Hop tagger steps aside (the later tests do not need it; close is idempotent).
    hbhLink.close();
    const link = await dest.program('apn_tag').attach({ kind: 'tcx', interface: out, direction: 'egress' });
    let decoded: Decoded[];
    try {
      decoded = await captured('dest', () => sendUdp('dest', 2, cgroup));
    } finally {
      link.close();
    }
    assert.deepEqual(decoded.map((d) => d.udp?.payload).sort(), ['dest-0', 'dest-1']);
    for (const d of decoded) {
      assert.equal(d.nh, 60, 'Destination Options first');
      assert.equal(d.hbh, undefined);
      assert.deepEqual(
        d.dest?.find((o) => o.otype === OPTION_TYPE),
        { otype: OPTION_TYPE, optlen: 8, optdata: `01000000${APN_ID.toString(16).padStart(8, '0')}` },
      );
      assert.ok(d.udp?.chksum_ok && d.udp.len_ok && d.plen_ok);
    }
  });

  test('apn_read counts the APN ID of packets Scapy built and sent from the peer', async () => {
    const reader = await loadCollection(object, { programs: ['apn_read'] });
    colls.push(reader);
    links.push(
      await reader.program('apn_read').attach({ kind: 'tcx', interface: out, direction: 'ingress' }),
    );
    const outMac =
      (JSON.parse(sh('ip', ['-j', 'link', 'show', out])) as { address: string }[])[0]?.address ?? '';
    const sent = 4;
    scapyIn(peer, SCAPY, [
      'send',
      inn,
      outMac,
      PEER,
      HERE,
      String(port),
      String(APN_ID),
      String(OPTION_TYPE),
      String(sent),
    ]);
    spawnSync('sleep', ['0.2']);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(APN_ID);
    assert.equal(perCpuPackets(reader.map('apn_seen').lookupPerCpu(key)), BigInt(sent));
    const other = Buffer.alloc(4);
    other.writeUInt32LE((APN_ID ^ 1) >>> 0);
    assert.equal(reader.map('apn_seen').lookupPerCpu(other), undefined);
  });
}
