// Traffic from the peer namespace to the device's wan address: a continuous ping, or a counted one.
import { spawn } from 'node:child_process';
import type { RunningProcess } from './child-process.js';
import { spawnLogged } from './child-process.js';

export interface PingResult {
  sent: number;
  received: number;
}

/** Pings `addr` from `peerNs` until stopped (its output goes to `logFile`). */
export function startPingSource(
  peerNs: string,
  addr: string,
  intervalSeconds: number,
  logFile: string,
): RunningProcess {
  return spawnLogged({
    name: 'traffic source (ping)',
    command: 'nsenter',
    args: [`--net=/run/netns/${peerNs}`, 'ping', '-i', String(intervalSeconds), addr],
    logFile,
  });
}

/** Sends `count` pings and reports how many were sent and answered. */
export function pingCount(
  peerNs: string,
  addr: string,
  count: number,
  intervalSeconds = 0.01,
): Promise<PingResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('nsenter', [
      `--net=/run/netns/${peerNs}`,
      'ping',
      '-q',
      '-c',
      String(count),
      '-i',
      String(intervalSeconds),
      '-W',
      '1',
      addr,
    ]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.once('error', reject);
    p.once('exit', () => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      if (!m) reject(new Error(`ping ${addr} from ${peerNs}: no summary (${out.trim() || 'no output'})`));
      else resolve({ sent: Number(m[1]), received: Number(m[2]) });
    });
  });
}

export interface RunningPing {
  /** Interrupts the ping (as Ctrl-C would) and returns its summary. */
  stop(): Promise<PingResult>;
}

/** Pings every `intervalSeconds` until stopped (at most `maxCount` packets). */
export function startCountedPing(
  peerNs: string,
  addr: string,
  intervalSeconds: number,
  maxCount = 100_000,
): RunningPing {
  const p = spawn('nsenter', [
    `--net=/run/netns/${peerNs}`,
    'ping',
    '-q',
    '-c',
    String(maxCount),
    '-i',
    String(intervalSeconds),
    '-W',
    '1',
    addr,
  ]);
  let out = '';
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  return {
    async stop() {
      // nsenter execs ping in place: the pid is ping's own.
      if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) process.kill(p.pid, 'SIGINT');
      await exited;
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      if (!m) throw new Error(`ping ${addr} from ${peerNs}: no summary (${out.trim() || 'no output'})`);
      return { sent: Number(m[1]), received: Number(m[2]) };
    },
  };
}
