// Child of the int-telemetry test, run inside the sink's namespace: attaches the sink and a capture after it,
// receives the datagrams, and on a line from stdin prints what it saw as JSON and detaches.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { loadCollection } from '../../bpf/index.js';
import { buildFixture } from './library-fixture.js';

const [iface, object, address] = process.argv.slice(2);
if (!iface || !object || !address)
  throw new Error('usage: int-sink-child <iface> <int-telemetry.bpf.o> <address>');
const telemetry = await loadCollection(new Uint8Array(readFileSync(object)));
const capture = await loadCollection(await buildFixture('capture-frames'));
// Attach order is run order: the sink first, so the capture sees what the sink hands on.
const links = [
  await telemetry.program('int_sink').attach({ kind: 'tcx', interface: iface, direction: 'ingress' }),
  await capture.program('capture').attach({ kind: 'tcx', interface: iface, direction: 'ingress' }),
];
const received: string[] = [];
const socket = createSocket('udp4');
socket.on('message', (m) => received.push(m.toString()));
await new Promise<void>((resolve) => socket.bind(9999, address, resolve));
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  const frames: string[] = [];
  for (let slot = 0; slot < 256; slot++) {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(slot);
    const v = capture.map('frames').lookup(key);
    const len = v ? Buffer.from(v).readUInt32LE(0) : 0;
    if (v && len > 0) frames.push(Buffer.from(v.subarray(4, 4 + len)).toString('hex'));
  }
  const flows = telemetry
    .map('rx_flows')
    .entries()
    .map(([key, value]) => ({
      key: Buffer.from(key).toString('hex'),
      value: Buffer.from(value).toString('hex'),
    }));
  const latency: string[] = [];
  for (let b = 0; b < 32; b++) {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(b);
    const perCpu = telemetry.map('latency_us_log2').lookupPerCpu(key) ?? [];
    latency.push(String(perCpu.reduce((s, v) => s + Buffer.from(v).readBigUInt64LE(0), 0n)));
  }
  process.stdout.write(`${JSON.stringify({ frames, flows, latency, received })}\n`);
  socket.close();
  for (const link of links) link.close();
  telemetry.close();
  capture.close();
  process.exit(0);
});
