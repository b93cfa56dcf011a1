// apn-tagger's APN6 option checked by a dissector we did not write: real IPv6 UDP from a tagged cgroup crosses a veth
// into a peer namespace, tcpdump captures it there and Scapy decodes the pcap; then Scapy sends APN6 packets back,
// and apn_read counts their APN ID. Runs inside its own namespace (the loader attaches where it runs).
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection } from '@bpfleet/sdk/bpf';
import { cgroup2Root } from './truth/truth-device.js';

const TAG = 'apn';
const NS_ENV = 'BPFLEET_APN6_NETNS';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = join(ROOT, 'bpf-programs', 'apn-tagger');
const SCAPY = join(PROGRAM, 'test', 'scapy-apn6.py');
// Debian's python3 (where python3-scapy lives), not whichever python3 is first on PATH.
const PYTHON = '/usr/bin/python3';
const APN_ID = 0x8a0c0de5;
const OPTION_TYPE = 0x1e;
const HERE = '2001:db8:138::1';
const PEER = '2001:db8:138::2';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A free UDP/TCP port number of loopback, chosen now (the datagrams go to it inside the namespaces). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

if (!process.env[NS_ENV]) {
  // Outside: make this file's namespace and run it again in there.
  const ns = `${TAG}-a-${process.pid}`;
  after(() => void spawnSync('ip', ['netns', 'del', ns]));
  test('APN6 tests in their own network namespace', () => {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawnSync(
      'nsenter',
      [
        `--net=/run/netns/${ns}`,
        process.execPath,
        '--test',
        '--test-reporter=spec',
        fileURLToPath(import.meta.url),
      ],
      { encoding: 'utf8', env: { ...env, [NS_ENV]: ns }, timeout: 120_000 },
    );
    assert.equal(child.status, 0, `inner tests failed:\n${child.stdout}\n${child.stderr}`);
    assert.match(child.stdout, /ℹ pass 3\n/, `inner tests did not all run:\n${child.stdout}`);
    assert.match(child.stdout, /ℹ fail 0/);
  });
} else {
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

  /** Starts tcpdump on the peer's veth (what arrives there; `ip6`, since `udp` would miss a UDP header behind an
   * extension header; immediate mode, or SIGINT loses what waits in the ring's open block); resolves once it listens. */
  async function startCapture(pcap: string): Promise<ChildProcess> {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${peer}`,
        'tcpdump',
        '-i',
        inn,
        '-Q',
        'in',
        '--immediate-mode',
        '-U',
        '-n',
        '-w',
        pcap,
        'ip6',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('listening on')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${err}`)));
    });
    return child;
  }

  async function stopCapture(child: ChildProcess): Promise<void> {
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid) process.kill(child.pid, 'SIGINT');
    await exited;
  }

  interface Decoded {
    nh: number;
    plen: number;
    plen_ok: boolean;
    hbh?: { otype: number; optlen: number; optdata: string }[];
    udp?: { dport: number; payload: string; chksum_ok: boolean; len_ok: boolean };
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

  /** Captures on the peer while `send` runs; Scapy's view of the datagrams to this test's port. */
  async function captured(name: string, send: () => void): Promise<Decoded[]> {
    const pcap = join(work, `${name}.pcap`);
    const capture = await startCapture(pcap);
    try {
      send();
      spawnSync('sleep', ['0.3']);
    } finally {
      await stopCapture(capture);
    }
    return sh(PYTHON, [SCAPY, 'decode', pcap])
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Decoded)
      .filter((d) => d.udp?.dport === port);
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
    const value = Buffer.alloc(8);
    value.writeUInt32LE(APN_ID, 0);
    value.writeUInt8(46, 4);
    tagger.map('tagged_apps').update(key, value);
    links.push(await tagger.program('apn_tag').attach({ kind: 'tcx', interface: out, direction: 'egress' }));

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

  test('apn_read counts the APN ID of packets Scapy built and sent from the peer', async () => {
    const reader = await loadCollection(object, { programs: ['apn_read'] });
    colls.push(reader);
    links.push(
      await reader.program('apn_read').attach({ kind: 'tcx', interface: out, direction: 'ingress' }),
    );
    const outMac =
      (JSON.parse(sh('ip', ['-j', 'link', 'show', out])) as { address: string }[])[0]?.address ?? '';
    const sent = 4;
    inPeer(PYTHON, [
      SCAPY,
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
