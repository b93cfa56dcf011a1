// Samples an interface's XDP hook every millisecond from a process of its own (xdp-poller-main.js), through one
// `ip -j -batch -` in the device namespace (a process per sample would take ~5 ms to start).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./xdp-poller-main.js', import.meta.url));

export interface XdpSample {
  /** ms since the poller started. */
  at: number;
  /** The program on the hook, undefined when it was empty (or the interface missing). */
  progId: number | undefined;
}

export interface XdpPoller {
  /** Stops sampling and returns every sample, in order. */
  stop(): Promise<XdpSample[]>;
}

/** Resolves once the first sample is taken. */
export async function pollXdp(ns: string, dev: string, intervalMs = 1): Promise<XdpPoller> {
  // Real-time priority (it sleeps between samples): on a busy 2-core machine a starved poller would leave gaps a
  // short outage could hide in.
  const child = spawn('chrt', ['-f', '10', process.execPath, MAIN, ns, dev, String(intervalMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    void exited.then(() => reject(new Error(`xdp poller exited before its first sample: ${out}`)));
  });
  return {
    async stop() {
      child.stdin.end();
      await exited;
      const line = out.split('\n').find((l) => l.startsWith('['));
      const raw = JSON.parse(line ?? '[]') as Array<[number, number | null]>;
      return raw.map(([at, id]) => ({ at, progId: id ?? undefined }));
    },
  };
}
