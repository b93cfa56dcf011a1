// Runs the real bpfleet-edge (dist/main.js) for process-level tests: to its end, or until it listens.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const EDGE_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface EdgeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

type Env = Record<string, string | undefined>;

/** Runs the edge to its exit (for starts that must fail); killed after `timeoutMs` if it does not end. */
export function runEdge(args: string[], env: Env = {}, timeoutMs = 15_000): Promise<EdgeRun> {
  const child = spawn(process.execPath, [EDGE_MAIN, ...args], {
    env: { ...process.env, BPFLEET_EDGE_ADMIN_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningEdge {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stop: () => Promise<void>;
}

/** Starts the edge and resolves once it prints `listening on`; `stop` ends it by its pid (SIGTERM). */
export function startEdge(args: string[], env: Env = {}): Promise<RunningEdge> {
  const child = spawn(process.execPath, [EDGE_MAIN, ...args], {
    env: { ...process.env, BPFLEET_EDGE_ADMIN_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d;
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] as string, stdout: () => out, stop });
    });
    child.once('close', (code) => reject(new Error(`bpfleet-edge exited ${code}: ${err.slice(-2000)}`)));
  });
}
