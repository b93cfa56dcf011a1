// int-telemetry between two namespaces: real UDP stamped at the source's egress, every 7th stamped packet dropped
// on purpose, the sink in the peer namespace counting exactly that loss and handing on packets byte-identical to
// those that entered the source.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection, testRun } from '../../bpf/index.js';
import { insideTestNetns } from '../../bpf/testing/netns-suite.js';
import { buildPacket, internetChecksum } from '../packet-builder.js';
import {
  buildFixture,
  buildLibraryProgram,
  createNetns,
  type LibraryProgram,
  sh,
} from './library-fixture.js';

const NTH = 7;
const PER_FLOW = 50;

/** Captured frames that carry a UDP datagram to port 9999 (before stamping or after stripping). */
function udpFrames(hex: string[]): string[] {
  return hex.filter((h) => {
    const f = Buffer.from(h, 'hex');
    return f.readUInt16BE(12) === 0x0800 && f[23] === 17 && f.readUInt16BE(36) === 9999;
  });
}

if (insideTestNetns(import.meta.url)) {
  const sink = createNetns('telco');
  let program: LibraryProgram;
  after(() => sink.remove());
  before(async () => {
    program = await buildLibraryProgram('int-telemetry');
    sh('ip', ['link', 'add', 'intsrc', 'type', 'veth', 'peer', 'name', 'intsink', 'netns', sink.name]);
    sh('ip', ['addr', 'add', '198.18.70.1/30', 'dev', 'intsrc']);
    sink.exec('ip', ['addr', 'add', '198.18.70.2/30', 'dev', 'intsink']);
    sh('ip', ['link', 'set', 'intsrc', 'up']);
    sink.exec('ip', ['link', 'set', 'intsink', 'up']);
    // Fixed neighbours: no ARP among the frames, nothing but the test's loss.
    const macOf = (json: string) => (JSON.parse(json) as { address: string }[])[0]?.address ?? '';
    sh('ip', [
      'neigh',
      'add',
      '198.18.70.2',
      'lladdr',
      macOf(sink.exec('ip', ['-j', 'link', 'show', 'intsink'])),
      'dev',
      'intsrc',
      'nud',
      'permanent',
    ]);
    sink.exec('ip', [
      'neigh',
      'add',
      '198.18.70.1',
      'lladdr',
      macOf(sh('ip', ['-j', 'link', 'show', 'intsrc'])),
      'dev',
      'intsink',
      'nud',
      'permanent',
    ]);
  });

  test('source then sink through BPF_PROG_TEST_RUN: shim fields, IPv4 length and checksum, exact restore', async () => {
    assert.deepEqual(program.issues, []);
    const coll = await loadCollection(program.object);
    try {
      const original = Buffer.from(
        buildPacket({
          ipv4: { src: '198.18.0.1', dst: '198.18.0.2' },
          udp: { src: 1, dst: 2 },
          payload: 'cafe',
        }),
      );
      for (let seq = 0; seq < 3; seq++) {
        const stamped = Buffer.from(testRun(coll.program('int_source'), original).dataOut);
        assert.equal(stamped.length, original.length + 16);
        assert.equal(stamped[23], 253, 'protocol says shim');
        assert.equal(stamped.readUInt16BE(16), original.readUInt16BE(16) + 16, 'IPv4 total length');
        assert.equal(internetChecksum(stamped.subarray(14, 34)), 0, 'IPv4 header checksum');
        assert.deepEqual([stamped[34], stamped[35], stamped.readUInt32BE(38)], [17, 1, seq]);
        assert.ok(stamped.readBigUInt64BE(42) > 0n, 'TAI timestamp');
        assert.deepEqual(stamped.subarray(50), original.subarray(34), 'transport untouched');
        const restored = Buffer.from(testRun(coll.program('int_sink'), stamped).dataOut);
        assert.deepEqual(restored, original);
      }
    } finally {
      coll.close();
    }
  });

  test('real traffic: the sink counts exactly the packets dropped on purpose and restores the rest byte for byte', async () => {
    const colls: Collection[] = [];
    const links: Link[] = [];
    const child = spawn('nsenter', [
      `--net=/run/netns/${sink.name}`,
      process.execPath,
      fileURLToPath(new URL('./int-sink-child.js', import.meta.url)),
      'intsink',
      program.objectPath,
      '198.18.70.2',
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Set up before anything else is awaited, so the line cannot be missed.
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => {
        if (stdout.includes('ready\n')) resolve();
      });
      child.once('close', () => reject(new Error(`sink child exited: ${stderr}`)));
    });
    const sockets = [createSocket('udp4'), createSocket('udp4')];
    try {
      const capture = await loadCollection(await buildFixture('capture-frames'));
      colls.push(capture);
      const telemetry = await loadCollection(program.object, { config: { match_port: 9999n } });
      colls.push(telemetry);
      const dropper = await loadCollection(await buildFixture('drop-every-nth'), {
        config: { nth: BigInt(NTH) },
      });
      colls.push(dropper);
      // Run order on egress: capture what enters the source, stamp, then lose every 7th stamped packet.
      for (const [coll, name] of [
        [capture, 'capture'],
        [telemetry, 'int_source'],
        [dropper, 'drop_every_nth'],
      ] as const) {
        links.push(
          await coll.program(name).attach({ kind: 'tcx', interface: 'intsrc', direction: 'egress' }),
        );
      }
      await ready;
      for (const s of sockets) await new Promise<void>((resolve) => s.bind(0, '198.18.70.1', resolve));
      for (let i = 0; i < 2 * PER_FLOW; i++) {
        const socket = sockets[i % 2];
        await new Promise<void>((resolve, reject) =>
          socket?.send(`flow${i % 2}-${String(i).padStart(3, '0')}`, 9999, '198.18.70.2', (e) =>
            e ? reject(e) : resolve(),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 300));
      child.stdin.write('dump\n');
      assert.equal(await exited, 0, stderr);
      const seen = JSON.parse(stdout.split('\n')[1] ?? '{}') as {
        frames: string[];
        flows: { key: string; value: string }[];
        latency: string[];
        received: string[];
      };

      // Which were dropped: every 7th in send order.
      const dropped = Array.from({ length: 2 * PER_FLOW }, (_, i) => i).filter((i) => (i + 1) % NTH === 0);
      const sent = udpFrames(
        Array.from({ length: 256 }, (_, slot) => {
          const key = Buffer.alloc(4);
          key.writeUInt32LE(slot);
          const v = capture.map('frames').lookup(key);
          const len = v ? Buffer.from(v).readUInt32LE(0) : 0;
          return v && len > 0 ? Buffer.from(v.subarray(4, 4 + len)).toString('hex') : '';
        }).filter((h) => h !== ''),
      );
      assert.equal(sent.length, 2 * PER_FLOW, 'every datagram entered the source');
      const arrived = udpFrames(seen.frames);
      assert.deepEqual(
        arrived,
        sent.filter((_, i) => !dropped.includes(i)),
        'what the sink hands on is byte-identical to what entered the source, minus the dropped',
      );
      assert.equal(
        seen.received.length,
        2 * PER_FLOW - dropped.length,
        'the app received every surviving datagram',
      );

      // Per flow: lost is exactly what was dropped of it.
      assert.equal(seen.flows.length, 2);
      for (const flow of seen.flows) {
        const key = Buffer.from(flow.key, 'hex');
        const value = Buffer.from(flow.value, 'hex');
        const srcPort = key.readUInt16LE(8);
        const index = sockets.findIndex((s) => s.address().port === srcPort);
        const droppedHere = dropped.filter((i) => i % 2 === index).length;
        assert.deepEqual(
          {
            received: Number(value.readBigUInt64LE(0)),
            lost: Number(value.readBigUInt64LE(8)),
            late: Number(value.readBigUInt64LE(16)),
          },
          { received: PER_FLOW - droppedHere, lost: droppedHere, late: 0 },
          `flow from port ${srcPort}`,
        );
      }
      assert.equal(
        seen.latency.reduce((s, v) => s + Number(v), 0),
        2 * PER_FLOW - dropped.length,
        'every stamped arrival has a latency',
      );
      const lossCount = dropper.map('seen').lookup(Buffer.from([1, 0, 0, 0]));
      assert.equal(Number(Buffer.from(lossCount ?? new Uint8Array(8)).readBigUInt64LE(0)), dropped.length);
    } finally {
      for (const s of sockets) s.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const link of links) link.close();
      for (const coll of colls) coll.close();
    }
  });
}
