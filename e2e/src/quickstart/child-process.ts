// Processes a run starts: output to a log file, stopped by pid (TERM, then KILL), recorded in a pid file so
// that a later run can end the ones a crashed run left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

export interface SpawnLoggedOptions {
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: Record<string, string>;
  /** Called with each chunk of stdout too (e.g. to read an announced address). */
  onStdout?: (text: string) => void;
}

export function spawnLogged(o: SpawnLoggedOptions): RunningProcess {
  const log = openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(o.command, o.args, {
      stdio: ['ignore', o.onStdout ? 'pipe' : log, log],
      env: { ...process.env, ...o.env },
    });
  } finally {
    closeSync(log);
  }
  if (o.onStdout) {
    const append = openSync(o.logFile, 'a');
    child.stdout?.on('data', (d: Buffer) => {
      o.onStdout?.(d.toString());
      try {
        writeSync(append, d);
      } catch {
        // The log is a convenience: a full disk must not stop the run.
      }
    });
    child.once('exit', () => closeSync(append));
  }
  if (child.pid === undefined) throw new Error(`${o.name}: did not start (${o.command})`);
  const pid = child.pid;
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<number | string>((resolve) => {
    if (!isRunning()) resolve(child.exitCode ?? child.signalCode ?? -1);
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    name: o.name,
    pid,
    child,
    exited,
    isRunning,
    async stop(graceMs = 5000) {
      if (!isRunning()) return exited;
      process.kill(pid, 'SIGTERM');
      const timer = sleep(graceMs).then(() => 'timeout' as const);
      if ((await Promise.race([exited, timer])) === 'timeout' && isRunning()) process.kill(pid, 'SIGKILL');
      return exited;
    },
  };
}

interface PidRecord {
  pid: number;
  /** A string the process's command line contains, so a recycled pid is never killed. */
  marker: string;
  /** The run itself (not a process it started): while it lives, its processes are not stale. */
  runner?: boolean;
}

/** Records the pids of a run's processes; `reapStale` ends those a crashed earlier run left running. */
export class PidFile {
  readonly #path: string;
  readonly #records: PidRecord[] = [];

  constructor(path: string) {
    this.#path = path;
  }

  async add(pid: number, marker: string, runner = false): Promise<void> {
    this.#records.push(runner ? { pid, marker, runner } : { pid, marker });
    await writeFile(this.#path, JSON.stringify(this.#records));
  }

  async clear(): Promise<void> {
    this.#records.length = 0;
    await writeFile(this.#path, '[]');
  }

  /**
   * SIGKILLs each recorded pid still running with its marker in its command line; returns the pids ended.
   * Refuses while the run that recorded them is alive: that is another run in progress, not a crashed one.
   */
  async reapStale(): Promise<number[]> {
    let records: PidRecord[];
    try {
      records = JSON.parse(await readFile(this.#path, 'utf8')) as PidRecord[];
    } catch {
      return [];
    }
    const live = records.filter((r) => r.pid !== process.pid && runningWith(r.pid, r.marker));
    const runner = live.find((r) => r.runner);
    if (runner)
      throw new Error(`another run is in progress (pid ${runner.pid}): stop it first (${this.#path})`);
    const ended: number[] = [];
    for (const { pid } of live) {
      try {
        process.kill(pid, 'SIGKILL');
        ended.push(pid);
      } catch {
        // Gone meanwhile.
      }
    }
    for (let i = 0; i < 40 && ended.some((pid) => alive(pid)); i++) await sleep(50);
    await this.clear();
    return ended;
  }
}

function runningWith(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
