// The XDP poller's own process (so the test's event loop cannot slow it): `node xdp-poller-main.js <ns> <dev>
// <interval ms>` asks `ip -j -batch -` in the namespace for the interface every interval, prints `ready` after the
// first sample, and on stdin's end prints every sample as one JSON line and exits.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { xdpOfLink } from './kernel-view.js';

const [ns, dev, interval] = process.argv.slice(2);
const ip = spawn('nsenter', [`--net=/run/netns/${ns}`, 'ip', '-j', '-force', '-batch', '-'], {
  stdio: ['pipe', 'pipe', 'ignore'],
});
const answers = createInterface({ input: ip.stdout })[Symbol.asyncIterator]();
const samples: Array<[number, number | null]> = [];
let stopping = false;
process.stdin.on('end', () => {
  stopping = true;
});
process.stdin.resume();
const start = performance.now();
while (!stopping) {
  ip.stdin.write(`link show dev ${dev}\n`);
  // A missing interface gets no answer on stdout: it counts as an empty hook.
  const next = await Promise.race([answers.next(), sleep(200).then(() => undefined)]);
  if (next?.done) break;
  let progId: number | null = null;
  try {
    progId = next ? (xdpOfLink(JSON.parse(next.value))?.id ?? null) : null;
  } catch {
    progId = null;
  }
  samples.push([performance.now() - start, progId]);
  if (samples.length === 1) process.stdout.write('ready\n');
  await sleep(Number(interval));
}
ip.stdin.end();
process.stdout.write(`${JSON.stringify(samples)}\n`);
