// apn_read with strip_apn6 at the network edge, on the wire: Scapy sends APN6 packets whose option type tells an
// unaware node to discard them (action bits 01), so only packets apn_read stripped reach the UDP socket behind it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection } from '@bpfleet/sdk/bpf';
import { freePort } from '@bpfleet/sdk/test-kit';
import { insideOwnNetns, scapyIn, sh } from './fixtures/scapy-capture.js';

const TAG = 'apn';
const PROGRAM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bpf-programs', 'apn-tagger');
const SCAPY = join(PROGRAM, 'test', 'scapy-apn6.py');
const APN_ID = 0x0138_0001;
// RFC 4727's experimental option type with action 01: a node that does not know it discards the packet.
const DISCARD_IF_UNKNOWN = 0x5e;
const HERE = '2001:db8:138::11';
const PEER = '2001:db8:138::12';

if (insideOwnNetns(import.meta.url, 'BPFLEET_APN6_STRIP_NETNS', `${TAG}-s-${process.pid}`, 1)) {
  const peer = `${TAG}-t-${process.pid}`;
  const mine = `${TAG}6s${process.pid % 100000}`;
  const theirs = `${TAG}6t${process.pid % 100000}`;
  const colls: Collection[] = [];
  const links: Link[] = [];

  before(() => {
    sh('ip', ['netns', 'add', peer]);
    sh('ip', ['link', 'add', mine, 'type', 'veth', 'peer', 'name', theirs, 'netns', peer]);
    sh('ip', ['addr', 'add', `${HERE}/64`, 'dev', mine, 'nodad']);
    sh('ip', ['-n', peer, 'addr', 'add', `${PEER}/64`, 'dev', theirs, 'nodad']);
    sh('ip', ['link', 'set', mine, 'up']);
    sh('ip', ['-n', peer, 'link', 'set', theirs, 'up']);
  });

  after(() => {
    for (const link of links) link.close();
    for (const coll of colls) coll.close();
    spawnSync('ip', ['netns', 'del', peer]);
    spawnSync('ip', ['link', 'del', mine]);
  });

  test('packets apn_read strips reach the socket; the kernel would have discarded them with the option', async () => {
    const object = new Uint8Array(
      readFileSync(
        join(PROGRAM, 'build', 'bpf', process.arch === 'arm64' ? 'arm64' : 'x86', 'apn-tagger.bpf.o'),
      ),
    );
    const reader = await loadCollection(object, {
      programs: ['apn_read'],
      config: { strip_apn6: true, apn_option_type: DISCARD_IF_UNKNOWN },
    });
    colls.push(reader);
    const port = await freePort();
    const sent = 3;
    const listener = spawn(
      process.execPath,
      [
        '-e',
        `const s=require('node:dgram').createSocket('udp6');let n=0;s.on('message',(m)=>{console.log(m.toString());if(++n===${sent})process.exit(0)});s.bind(${port},'${HERE}',()=>console.log('ready'));setTimeout(()=>process.exit(0),3000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let said = '';
    const closed = new Promise<void>((resolve) => listener.on('close', () => resolve()));
    try {
      await new Promise<void>((resolve) =>
        listener.stdout?.on('data', (d: Buffer) => {
          said += d.toString();
          if (said.includes('ready')) resolve();
        }),
      );
      const mac =
        (JSON.parse(sh('ip', ['-j', 'link', 'show', mine])) as { address: string }[])[0]?.address ?? '';
      const args = [
        theirs,
        mac,
        PEER,
        HERE,
        String(port),
        String(APN_ID),
        String(DISCARD_IF_UNKNOWN),
        String(sent),
      ];
      // First without the reader: the kernel drops them all (proof that delivery below needs the strip).
      scapyIn(peer, SCAPY, ['send', ...args]);
      spawnSync('sleep', ['0.3']);
      assert.deepEqual(said.trim().split('\n'), ['ready'], 'nothing gets through while the option is on');
      links.push(
        await reader.program('apn_read').attach({ kind: 'tcx', interface: mine, direction: 'ingress' }),
      );
      scapyIn(peer, SCAPY, ['send', ...args]);
      await closed;
    } finally {
      if (listener.exitCode === null) listener.kill('SIGKILL');
    }
    assert.deepEqual(said.trim().split('\n').slice(1), ['scapy-0', 'scapy-1', 'scapy-2']);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(6);
    const stripped = (reader.map('apn6_events').lookupPerCpu(key) ?? []).reduce(
      (sum, v) => sum + Buffer.from(v).readBigUInt64LE(0),
      0n,
    );
    assert.equal(stripped, BigInt(sent));
  });
}
