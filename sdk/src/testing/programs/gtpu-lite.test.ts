// gtpu-lite through a veth pair: a gNB in a peer namespace sends GTP-U uplink and receives tunnelled downlink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, test } from 'node:test';
import { type Collection, loadCollection } from '../../bpf/index.js';
import { createVethPair, type VethPair } from '../../bpf/testing/fixtures.js';
import { insideTestNetns } from '../../bpf/testing/netns-suite.js';
import { until } from '../../test-kit/until.js';
import { decodeLayout } from '../map-values.js';
import { buildPacket } from '../packet-builder.js';
import { buildLibraryProgram, encodeEntry, type LibraryProgram } from './library-fixture.js';

// The gNB: sends datagrams, and collects what arrives on a bound port until it has `expect` of them.
const GNB = `
const dgram = require('node:dgram');
const { send, listen, expect } = JSON.parse(process.argv[1]);
const got = [];
const out = dgram.createSocket('udp4');
const done = () => { process.stdout.write(JSON.stringify(got)); process.exit(0); };
const go = () => {
  let i = 0;
  const next = () => i < send.length ? out.send(Buffer.from(send[i].hex, 'hex'), send[i].port, send[i].host, () => { i++; next(); }) : expect === 0 && done();
  next();
  setTimeout(done, 5000);
};
if (listen) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m) => { got.push(m.toString('hex')); if (got.length === expect) done(); });
  s.bind(listen.port, listen.host, go);
} else go();
`;

async function gnb(veth: VethPair, job: object): Promise<string[]> {
  const child = spawn('nsenter', [
    `--net=/run/netns/${veth.peer}`,
    process.execPath,
    '-e',
    GNB,
    JSON.stringify(job),
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as string[];
}

/** A GTP-U header (and optional part) in front of `inner`. */
function gtpu(teid: number, inner: Buffer, optional = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h[0] = optional.length > 0 ? 0x34 : 0x30;
  h[1] = 0xff;
  h.writeUInt16BE(optional.length + inner.length, 2);
  h.writeUInt32BE(teid, 4);
  return Buffer.concat([h, optional, inner]);
}

function ipv4Bytes(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

if (insideTestNetns(import.meta.url)) {
  let program: LibraryProgram;
  let veth: VethPair;
  let coll: Collection | undefined;
  beforeEach(async () => {
    program ??= await buildLibraryProgram('gtpu-lite');
    veth = createVethPair();
  });
  afterEach(() => {
    coll?.close();
    coll = undefined;
    veth.remove();
  });

  const read = (map: string, key: unknown) => {
    const layout = program.manifest.maps?.[map]?.layout;
    const values = coll?.map(map).lookupPerCpu(encodeEntry(program.manifest, map, 'key', key)) ?? [];
    return layout && values.length > 0 ? decodeLayout(layout.value, values) : {};
  };

  test('uplink: G-PDUs of a known TEID reach the socket of the inner packet; unknown TEIDs are dropped and counted', async () => {
    coll = await loadCollection(program.object);
    const m = coll;
    m.map('uplink_teids').update(
      encodeEntry(program.manifest, 'uplink_teids', 'key', 0x100),
      encodeEntry(program.manifest, 'uplink_teids', 'value', { session: 1 }),
    );
    const link = await m
      .program('gtpu_fast_path')
      .attach({ kind: 'xdp', interface: veth.inner, mode: 'driver' });
    const sock = createSocket('udp4');
    const received: string[] = [];
    sock.on('message', (msg) => received.push(msg.toString()));
    await new Promise<void>((resolve) => sock.bind(7000, veth.innerAddr, resolve));
    try {
      const inner = (i: number) =>
        Buffer.from(
          buildPacket({
            ipv4: { src: '198.18.200.5', dst: veth.innerAddr },
            udp: { src: 5000, dst: 7000 },
            payload: Buffer.from(`ue-${i}`).toString('hex'),
          }),
        ).subarray(14);
      const send = [];
      for (let i = 0; i < 10; i++) {
        // Every other G-PDU carries a 5G PDU Session Container (UL, QFI 5).
        const ext = i % 2 ? Buffer.from('0000008501100500', 'hex') : undefined;
        send.push({ host: veth.innerAddr, port: 2152, hex: gtpu(0x100, inner(i), ext).toString('hex') });
        if (i % 3 === 0)
          send.push({ host: veth.innerAddr, port: 2152, hex: gtpu(0x999, inner(100 + i)).toString('hex') });
      }
      await gnb(veth, { send, expect: 0 });
      await until(
        () => received.length === 10 && read('stats', 2).packets === '4',
        'ten inner packets and four drops',
        5000,
        () => ({ received: received.length, dropped: read('stats', 2).packets }),
      );
      assert.deepEqual(received.sort(), Array.from({ length: 10 }, (_, i) => `ue-${i}`).sort());
      assert.equal(read('stats', 2).packets, '4', 'unknown TEIDs dropped');
      assert.equal(read('stats', 0).packets, '10', 'decapsulated');
      assert.equal(read('sessions', 1).ul_packets, '10');
      assert.equal(read('sessions', 1).ul_bytes, String(10 * (20 + 8 + 4)));
    } finally {
      sock.close();
      link.close();
    }
  });

  test('downlink: packets to a known UE go back to the gNB tunnelled, with the TEID and QFI', async () => {
    coll = await loadCollection(program.object, {
      config: { n3_address: BigInt(ipv4Bytes(veth.innerAddr).readUInt32LE(0)), downlink_tx: true },
    });
    const m = coll;
    m.map('downlink_ues').update(
      encodeEntry(program.manifest, 'downlink_ues', 'key', '198.18.200.5'),
      encodeEntry(program.manifest, 'downlink_ues', 'value', {
        teid: 0x200,
        gnb: veth.outerAddr,
        session: 2,
        qfi: 9,
      }),
    );
    // Generic mode: XDP_TX on a veth in driver mode needs an XDP program on the peer too.
    const link = await m
      .program('gtpu_fast_path')
      .attach({ kind: 'xdp', interface: veth.inner, mode: 'generic' });
    try {
      const route = veth.inPeer('ip', ['route', 'add', '198.18.200.0/24', 'via', veth.innerAddr]);
      assert.equal(route.status, 0, String(route.stderr));
      const send = Array.from({ length: 5 }, (_, i) => ({
        host: '198.18.200.5',
        port: 9000,
        hex: Buffer.from(`dl-${i}`).toString('hex'),
      }));
      const got = await gnb(veth, { send, listen: { host: veth.outerAddr, port: 2152 }, expect: 5 });
      assert.equal(got.length, 5);
      const payloads = got.map((hex) => {
        const g = Buffer.from(hex, 'hex');
        assert.equal(g[0], 0x34, 'GTPv1-U with an extension header');
        assert.equal(g[1], 0xff, 'G-PDU');
        assert.equal(g.readUInt16BE(2), g.length - 8, 'GTP-U length');
        assert.equal(g.readUInt32BE(4), 0x200, 'TEID');
        assert.equal(
          g.subarray(8, 16).toString('hex'),
          '0000008501000900',
          'DL PDU Session Container, QFI 9',
        );
        const ip = g.subarray(16);
        assert.equal(ip[0], 0x45);
        assert.equal(ip.readUInt16BE(2), ip.length, 'inner IPv4 length');
        assert.deepEqual(
          [...ip.subarray(12, 20)],
          [...ipv4Bytes(veth.outerAddr), ...ipv4Bytes('198.18.200.5')],
        );
        assert.equal(ip.readUInt16BE(22), 9000);
        return ip.subarray(28).toString();
      });
      assert.deepEqual(payloads.sort(), ['dl-0', 'dl-1', 'dl-2', 'dl-3', 'dl-4']);
      assert.equal(read('sessions', 2).dl_packets, '5');
      assert.equal(read('stats', 1).packets, '5');
    } finally {
      link.close();
    }
  });
}
