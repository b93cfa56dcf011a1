// apn-tagger on the wire: two apps send IPv4 and IPv6 out of a veth; a peer namespace routes it all back in over a
// second veth, where a capture program keeps the frames, so the test reads the bytes the wire carried.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type Collection, type Link, loadCollection } from '../../bpf/index.js';
import { insideTestNetns } from '../../bpf/testing/netns-suite.js';
import { decodeLayout } from '../map-values.js';
import {
  buildFixture,
  buildLibraryProgram,
  createCgroup,
  createNetns,
  encodeEntry,
  type LibraryProgram,
  runInCgroup,
  sh,
} from './library-fixture.js';

// Sends three IPv4 and three IPv6 datagrams "<tag>-<n>" to the routed-back destination.
const SENDER = `
const dgram = require('node:dgram');
const tag = process.argv[1];
process.stdin.once('data', async () => {
  const v4 = dgram.createSocket('udp4');
  const v6 = dgram.createSocket('udp6');
  const send = (s, host, text) => new Promise((r, j) => s.send(Buffer.from(text), 9999, host, (e) => (e ? j(e) : r())));
  for (let i = 0; i < 3; i++) {
    await send(v4, '198.18.222.9', tag + '-4-' + i);
    await send(v6, '2001:2:222::9', tag + '-6-' + i);
  }
  v4.close();
  v6.close();
  process.exit(0);
});
`;

interface Seen {
  payload: string;
  version: 4 | 6;
  dscp: number;
  ecn: number;
  flowLabel?: number;
}

/** UDP datagrams to port 9999 among captured Ethernet frames, with their DSCP/ECN and flow label. */
function parseFrames(frames: Uint8Array[]): Seen[] {
  const seen: Seen[] = [];
  for (const raw of frames) {
    const f = Buffer.from(raw);
    const type = f.readUInt16BE(12);
    if (type === 0x0800 && f[23] === 17 && f.readUInt16BE(14 + 20 + 2) === 9999) {
      const tos = f[15] ?? 0;
      const len = f.readUInt16BE(16);
      seen.push({ payload: f.subarray(42, 14 + len).toString(), version: 4, dscp: tos >> 2, ecn: tos & 3 });
    } else if (type === 0x86dd && f[20] === 17 && f.readUInt16BE(14 + 40 + 2) === 9999) {
      const word = f.readUInt32BE(14);
      const len = f.readUInt16BE(18);
      seen.push({
        payload: f.subarray(62, 54 + len).toString(),
        version: 6,
        dscp: (word >>> 22) & 0x3f,
        ecn: (word >>> 20) & 3,
        flowLabel: word & 0xfffff,
      });
    }
  }
  return seen;
}

if (insideTestNetns(import.meta.url)) {
  const here = process.env.BPFLEET_LOADER_NETNS ?? '';
  const peer = createNetns('telco');
  const apps = { a: createCgroup(), b: createCgroup() };
  let program: LibraryProgram;
  let capture: Uint8Array;
  after(() => {
    peer.remove();
    for (const app of Object.values(apps)) app.remove();
  });
  before(async () => {
    program = await buildLibraryProgram('apn-tagger');
    capture = await buildFixture('capture-frames');
    // out0 → peer → back0: the peer forwards 198.18.222.0/24 and 2001:2:222::/64 back to this namespace.
    for (const [mine, theirs] of [
      ['apnout0', 'apnout1'],
      ['apnback0', 'apnback1'],
    ] as const) {
      sh('ip', ['link', 'add', mine, 'type', 'veth', 'peer', 'name', theirs, 'netns', peer.name]);
    }
    const addr = (where: 'here' | 'peer', dev: string, a: string) =>
      where === 'here'
        ? sh('ip', ['addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])])
        : peer.exec('ip', ['addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])]);
    addr('here', 'apnout0', '198.18.60.1/30');
    addr('here', 'apnout0', '2001:2:60::1/64');
    addr('here', 'apnback0', '198.18.60.5/30');
    addr('here', 'apnback0', '2001:2:61::1/64');
    addr('peer', 'apnout1', '198.18.60.2/30');
    addr('peer', 'apnout1', '2001:2:60::2/64');
    addr('peer', 'apnback1', '198.18.60.6/30');
    addr('peer', 'apnback1', '2001:2:61::2/64');
    for (const dev of ['apnout0', 'apnback0']) sh('ip', ['link', 'set', dev, 'up']);
    for (const dev of ['apnout1', 'apnback1']) peer.exec('ip', ['link', 'set', dev, 'up']);
    sh('ip', ['route', 'add', '198.18.222.0/24', 'via', '198.18.60.2']);
    sh('ip', ['-6', 'route', 'add', '2001:2:222::/64', 'via', '2001:2:60::2']);
    peer.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    peer.exec('ip', ['route', 'add', '198.18.222.0/24', 'via', '198.18.60.5']);
    peer.exec('ip', ['-6', 'route', 'add', '2001:2:222::/64', 'via', '2001:2:61::1']);
    // Fixed neighbours both ways: the test is about the bytes, not about neighbour discovery's timing.
    const macOf = (json: string) => (JSON.parse(json) as { address: string }[])[0]?.address ?? '';
    const back = macOf(sh('ip', ['-j', 'link', 'show', 'apnback0']));
    const out = macOf(peer.exec('ip', ['-j', 'link', 'show', 'apnout1']));
    peer.exec('ip', ['neigh', 'add', '2001:2:61::1', 'lladdr', back, 'dev', 'apnback1', 'nud', 'permanent']);
    sh('ip', ['neigh', 'add', '2001:2:60::2', 'lladdr', out, 'dev', 'apnout0', 'nud', 'permanent']);
  });

  test('a tagged app leaves with its DSCP and APN ID as flow label; another app leaves untouched', async () => {
    assert.deepEqual(program.issues, []);
    const colls: Collection[] = [];
    const links: Link[] = [];
    try {
      const tagger = await loadCollection(program.object);
      colls.push(tagger);
      tagger
        .map('tagged_apps')
        .update(
          encodeEntry(program.manifest, 'tagged_apps', 'key', String(statSync(apps.a.path).ino)),
          encodeEntry(program.manifest, 'tagged_apps', 'value', { apn_id: 0x12345, dscp: 46 }),
        );
      const capturer = await loadCollection(capture);
      colls.push(capturer);
      links.push(
        await tagger.program('apn_tag').attach({ kind: 'tcx', interface: 'apnout0', direction: 'egress' }),
      );
      links.push(
        await capturer
          .program('capture')
          .attach({ kind: 'tcx', interface: 'apnback0', direction: 'ingress' }),
      );
      await runInCgroup(here, apps.a.path, SENDER, ['A']);
      await runInCgroup(here, apps.b.path, SENDER, ['B']);
      // Let the last datagrams make the round trip through the peer.
      spawnSync('sleep', ['0.3']);

      const frames = capturer.map('frames');
      const captured: Uint8Array[] = [];
      for (let slot = 0; slot < 256; slot++) {
        const key = Buffer.alloc(4);
        key.writeUInt32LE(slot);
        const v = frames.lookup(key);
        const len = v ? Buffer.from(v).readUInt32LE(0) : 0;
        if (v && len > 0) captured.push(v.subarray(4, 4 + len));
      }
      const seen = parseFrames(captured).sort((x, y) => x.payload.localeCompare(y.payload));
      assert.deepEqual(
        seen.map((s) => s.payload),
        [
          'A-4-0',
          'A-4-1',
          'A-4-2',
          'A-6-0',
          'A-6-1',
          'A-6-2',
          'B-4-0',
          'B-4-1',
          'B-4-2',
          'B-6-0',
          'B-6-1',
          'B-6-2',
        ],
      );
      for (const s of seen) {
        if (s.payload.startsWith('A')) {
          assert.equal(s.dscp, 46, `${s.payload}: DSCP`);
          assert.equal(s.ecn, 0, `${s.payload}: ECN kept`);
          if (s.version === 6) assert.equal(s.flowLabel, 0x12345, `${s.payload}: flow label`);
        } else {
          assert.equal(s.dscp, 0, `${s.payload}: untouched DSCP`);
          if (s.version === 6) assert.notEqual(s.flowLabel, 0x12345, `${s.payload}: untouched flow label`);
        }
      }
      const counted =
        tagger.map('tagged').lookupPerCpu(encodeEntry(program.manifest, 'tagged', 'key', 0x12345)) ?? [];
      const layout = program.manifest.maps?.tagged?.layout;
      assert.ok(layout);
      assert.equal(decodeLayout(layout.value, counted).packets, '6');
    } finally {
      for (const link of links) link.close();
      for (const coll of colls) coll.close();
    }
  });
}
