// The agent's small state file, replaced atomically (temp file, fsync, rename, fsync of the directory).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '@bpfleet/sdk/errors';

/** Writes `bytes` to `path` so that a crash leaves either the old or the new content, never a mix. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  // The directory exists on every write but the first: create it only when the open says it is missing.
  const file = await open(temp, 'wx', 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return open(temp, 'wx', 0o600);
  });
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  // The rename itself is durable only once the directory entry is flushed.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * `writeFileAtomic` in blocking calls, for small files written on state changes: the same steps and guarantees,
 * at a tenth of the CPU of seven thread-pool round trips (the event loop waits for the fsyncs, as the edge's
 * SQLite commits do).
 */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | string): void {
  const dir = dirname(path);
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true });
    fd = openSync(temp, 'wx', 0o600);
  }
  try {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    for (let off = 0; off < data.byteLength; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {}
    throw err;
  }
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

/** A JSON document on disk; `load` returns `initial` when the file does not exist yet. */
export class StateFile<T> {
  constructor(
    readonly path: string,
    private readonly initial: () => T,
  ) {}

  async load(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.initial();
      throw new ConfigError('STATE_UNREADABLE', `state ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ConfigError('STATE_CORRUPT', `state ${this.path}: not JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async save(value: T): Promise<void> {
    writeFileAtomicSync(this.path, `${JSON.stringify(value, null, 2)}\n`);
  }
}
