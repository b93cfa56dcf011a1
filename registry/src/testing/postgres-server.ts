// A throwaway PostgreSQL 15 cluster for tests: initdb in a temp dir, postgres on a free loopback port, stopped by pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@bpfleet/sdk/test-kit';
import pg from 'pg';

export interface PostgresServer {
  /** A superuser URL for the `postgres` database (trust auth on loopback). */
  url: string;
  port: number;
  /** The postmaster's pid (a new one after `restart`). */
  readonly pid: number;
  /** Milliseconds from initdb to the first accepted connection. */
  startMs: number;
  /** A fresh, empty database and its URL (each contract test gets its own). */
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown and a start on the same data and port (every connection is cut). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const PG_BIN = process.env.BPFLEET_PG_BIN ?? '/usr/lib/postgresql/15/bin';
let databases = 0;

/** initdb refuses to run as root: as root the cluster belongs to the `postgres` (or `nobody`) user. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {}
  }
  throw new Error('postgres for tests: running as root but there is no postgres or nobody user');
}

function run(cmd: string, args: string[], owner: { uid: number; gid: number } | undefined): void {
  try {
    execFileSync(join(PG_BIN, cmd), args, { stdio: 'pipe', ...owner, env: { ...process.env, LANG: 'C' } });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`postgres for tests: ${cmd} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`postgres for tests exited with ${child.exitCode}: ${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      await sleep(50);
    }
  }
  throw new Error(`postgres for tests: not ready within 30 s: ${log()}`);
}

/** Starts a private cluster; `stop()` (also run on process exit) kills it by pid and removes its directory. */
export async function startPostgres(tag = 'pgs'): Promise<PostgresServer> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `bpfleet-${tag}-pg-`));
  const owner = clusterOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  let child: ChildProcess | undefined;
  const cleanup = () => {
    if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    run(
      'initdb',
      ['-D', data, '-U', 'bpfleet', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
      owner,
    );
    const port = await freePort();
    const url = `postgres://bpfleet@127.0.0.1:${port}/postgres`;
    const launch = async () => {
      // fsync off: a test cluster is thrown away, durability costs only time here.
      const proc = spawn(
        join(PG_BIN, 'postgres'),
        ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
        { stdio: ['ignore', 'ignore', 'pipe'], ...owner },
      );
      child = proc;
      let log = '';
      proc.stderr?.on('data', (d: Buffer) => {
        log = (log + d.toString()).slice(-4000);
      });
      await waitReady(url, proc, () => log);
    };
    const halt = async () => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      // SIGINT is PostgreSQL's fast shutdown; SIGKILL if it hangs.
      proc.kill('SIGINT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };
    await launch();
    return {
      url,
      port,
      get pid() {
        return child!.pid!;
      },
      startMs: Date.now() - started,
      async createDatabase(name = `t${process.pid}_${++databases}`) {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          await admin.query(`CREATE DATABASE ${name}`);
        } finally {
          await admin.end();
        }
        return `postgres://bpfleet@127.0.0.1:${port}/${name}`;
      },
      async restart() {
        await halt();
        await launch();
      },
      async stop() {
        process.removeListener('exit', cleanup);
        await halt();
        if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    process.removeListener('exit', cleanup);
    cleanup();
    throw err;
  }
}
