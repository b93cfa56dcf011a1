// int-telemetry's source and sink together on the loopback of a namespace of its own (MTU 1500): datagrams over IPv6
// and IPv4 arrive whole through the sink's strip, and one too big to stamp leaves unstamped without the sink counting
// a loss for it.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Collection, type Link, loadCollection } from '@bpfleet/sdk/bpf';
import { freePort } from '@bpfleet/sdk/test-kit';
import { insideOwnNetns, sh } from './fixtures/scapy-capture.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = join(ROOT, 'bpf-programs', 'int-telemetry');
/** Discarded by a receiver that does not know it: a stamped IPv6 datagram reaches the socket only once stripped. */
const OPTION_DISCARD = 0x7e;
/** int_stats keys. */
const STAMPED = 0;
const STRIPPED = 2;
const SKIPPED_MTU = 4;

if (insideOwnNetns(import.meta.url, 'BPFLEET_INT_LO_NETNS', `int-lo-${process.pid}`, 2)) {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  const object = new Uint8Array(readFileSync(join(PROGRAM, 'build', 'bpf', arch, 'int-telemetry.bpf.o')));
  const links: Link[] = [];
  let pair: Collection;

  before(async () => {
    // The namespace's own loopback, at an Ethernet MTU so that a full-size datagram has no room for the shim.
    sh('ip', ['link', 'set', 'lo', 'mtu', '1500']);
    pair = await loadCollection(object, { config: { int6_option: OPTION_DISCARD } });
    links.push(
      await pair.program('int_source').attach({ kind: 'tcx', interface: 'lo', direction: 'egress' }),
    );
    links.push(await pair.program('int_sink').attach({ kind: 'tcx', interface: 'lo', direction: 'ingress' }));
  });

  after(() => {
    for (const link of links) link.close();
    pair?.close();
  });

  function stat(action: number): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(action);
    const values = pair.map('int_stats').lookupPerCpu(key) ?? [];
    return values.reduce((sum, v) => sum + Buffer.from(v).readBigUInt64LE(0), 0n);
  }

  /** Sends `payloads` from another process to a free port at `address`; what a socket there received, and the port. */
  async function roundTrip(family: 'udp4' | 'udp6', address: string, payloads: string[]) {
    const port = await freePort();
    const got: string[] = [];
    const socket = createSocket(family);
    socket.on('message', (m) => got.push(m.toString('latin1')));
    await new Promise<void>((resolve) => socket.bind(port, address, resolve));
    try {
      const script = `const s=require('node:dgram').createSocket('${family}');const p=${JSON.stringify(payloads)};let n=0;const next=(e)=>{if(e)throw e;n<p.length?s.send(p[n++],${port},'${address}',next):s.close()};next();`;
      sh(process.execPath, ['-e', script]);
      // Awaited, not slept: the socket's messages arrive on this event loop.
      await delay(300);
    } finally {
      socket.close();
    }
    return { got, port };
  }

  /** The rx map's one entry {received, lost, late} for the flow to `dport` (port at key offset `portAt`). */
  function rxTo(map: string, portAt: number, dport: number) {
    const entries = pair
      .map(map)
      .entries()
      .filter(([k]) => Buffer.from(k).readUInt16LE(portAt) === dport);
    assert.equal(entries.length, 1, `one ${map} entry to port ${dport}`);
    const v = Buffer.from(entries[0]?.[1] ?? []);
    return { received: v.readBigUInt64LE(0), lost: v.readBigUInt64LE(8), late: v.readBigUInt64LE(16) };
  }

  for (const [family, address, keyPort, fullSize] of [
    ['udp6', '::1', 34, 1452],
    ['udp4', '127.0.0.1', 10, 1472],
  ] as const) {
    test(`${family}: every datagram whole through the sink; the one too big to stamp costs no sequence number`, async () => {
      const before = { stamped: stat(STAMPED), stripped: stat(STRIPPED), skipped: stat(SKIPPED_MTU) };
      const full = 'full'.padEnd(fullSize, '.');
      const payloads = ['small-0', 'small-1', full, 'small-2', 'small-3'];
      const { got, port } = await roundTrip(family, address, payloads);
      assert.deepEqual(got, payloads);
      assert.equal(stat(STAMPED) - before.stamped, 4n);
      assert.equal(stat(STRIPPED) - before.stripped, 4n);
      assert.equal(stat(SKIPPED_MTU) - before.skipped, 1n, 'the full-size datagram counted as not stamped');
      const map = family === 'udp6' ? 'rx_flows6' : 'rx_flows';
      assert.deepEqual(rxTo(map, keyPort, port), { received: 4n, lost: 0n, late: 0n });
    });
  }
}
