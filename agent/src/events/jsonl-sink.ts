// The local JSON-lines sink: one line per delivered record, the file rotated at a size so the disk stays bounded.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventLosses, EventRecord } from '@bpfleet/sdk/protocol';
import type { Logger } from '../logger.js';
import type { EventSink, StreamRef } from './event-sink.js';

export class JsonLinesSink implements EventSink {
  #size: number;

  constructor(private readonly o: { path: string; maxBytes: number; files: number; logger: Logger }) {
    mkdirSync(dirname(o.path), { recursive: true, mode: 0o700 });
    this.#size = existsSync(o.path) ? statSync(o.path).size : 0;
  }

  deliver(ref: StreamRef, records: EventRecord[], lost: EventLosses): void {
    const time = new Date().toISOString();
    let text = '';
    for (const record of records) {
      text += `${JSON.stringify({ time, deployment: ref.deployment, stream: ref.stream, record })}\n`;
    }
    if (lost.ringFull + lost.budget + lost.malformed > 0)
      text += `${JSON.stringify({ time, deployment: ref.deployment, stream: ref.stream, lost })}\n`;
    if (text.length === 0) return;
    // Synchronous on purpose: one write per drained batch (≤ a few hundred KiB), and nothing queues in memory.
    if (this.#size + Buffer.byteLength(text) > this.o.maxBytes) this.rotate();
    try {
      appendFileSync(this.o.path, text, { mode: 0o600 });
      this.#size += Buffer.byteLength(text);
    } catch (err) {
      this.o.logger.warn('event sink: write failed', { path: this.o.path, error: String(err) });
    }
  }

  /** path → path.1 → … → path.<files>; the oldest is removed. */
  private rotate(): void {
    const { path, files } = this.o;
    rmSync(`${path}.${files}`, { force: true });
    for (let i = files - 1; i >= 1; i--) {
      if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    }
    if (existsSync(path)) renameSync(path, `${path}.1`);
    this.#size = 0;
  }

  flush(): void {}

  close(): void {}
}
