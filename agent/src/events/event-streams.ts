// The agent's event streams: a drain per ring buffer the running deployments' manifests declare as one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openPinnedMap } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import type { DeploymentMetaStore } from '../deployments/deployment-meta.js';
import type { Logger } from '../logger.js';
import type { EventMetrics } from '../metrics/event-metrics.js';
import { EventBudget } from './event-budget.js';
import type { EventSink } from './event-sink.js';
import type { EventsConfig } from './events-config.js';
import { StreamDrain } from './stream-drain.js';

export interface EventStreamsOptions {
  config: EventsConfig;
  /** What runs (the loader's records) and where its maps are pinned (`<pinRoot>/<id>/maps/<name>`). */
  meta: DeploymentMetaStore;
  pinRoot: string;
  sinks: EventSink[];
  metrics: EventMetrics;
  logger: Logger;
  /** How often the running deployments are looked at for streams to start or stop (default 2 s). */
  syncMs?: number;
}

function pinnedMapId(path: string): number | undefined {
  try {
    const map = openPinnedMap(path);
    const id = map.info.id;
    map.close();
    return id;
  } catch {
    return undefined;
  }
}

export class EventStreams {
  private readonly drains = new Map<string, StreamDrain>();
  private readonly budget: EventBudget;
  private timers: NodeJS.Timeout[] = [];
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: EventStreamsOptions) {
    this.budget = new EventBudget(o.config.ratePerSecond, o.config.burst);
  }

  start(): void {
    this.timers = [
      setInterval(() => void this.sync(), this.o.syncMs ?? 2000),
      setInterval(() => this.tick(), this.o.config.flushMs),
    ];
    for (const t of this.timers) t.unref();
    void this.sync();
  }

  /** Counts new ring-full drops and publishes what the sinks hold. */
  tick(): void {
    for (const drain of this.drains.values()) {
      drain.pollLost();
      drain.reportLost();
    }
    for (const sink of this.o.sinks) sink.flush();
  }

  /** Starts a drain for every declared stream of what runs; stops those of what is gone or was replaced. */
  sync(): Promise<void> {
    this.syncing = this.syncing
      .then(() => this.syncNow())
      .catch((err: unknown) => {
        this.o.logger.warn('event streams: sync failed', { error: errorMessage(err) });
      });
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Set<string>();
    for (const id of await this.o.meta.ids()) {
      const meta = await this.o.meta.read(id);
      if (!meta) continue;
      const { deployment } = meta.current;
      for (const [name, decl] of Object.entries(meta.current.maps)) {
        if (!decl.events) continue;
        const key = `${id}/${name}`;
        const mapsDir = join(this.o.pinRoot, id, 'maps');
        const ringPath = join(mapsDir, name);
        if (!existsSync(ringPath)) continue;
        wanted.add(key);
        const running = this.drains.get(key);
        if (running && running.mapId === pinnedMapId(ringPath) && !running.error) continue;
        if (running) await this.stopDrain(key);
        const counter = decl.events.lostCounter;
        const ref = {
          deployment: id,
          package: deployment.package,
          version: deployment.version,
          stream: name,
        };
        try {
          const drain = await StreamDrain.open(
            ref,
            decl.events,
            ringPath,
            counter ? join(mapsDir, counter) : undefined,
            { budget: this.budget, sinks: this.o.sinks, metrics: this.o.metrics, logger: this.o.logger },
          );
          this.drains.set(key, drain);
          this.o.logger.info('event stream: draining', { ...ref, mapId: drain.mapId });
        } catch (err) {
          this.o.logger.warn('event stream: cannot drain', { ...ref, error: errorMessage(err) });
        }
      }
    }
    for (const key of [...this.drains.keys()]) if (!wanted.has(key)) await this.stopDrain(key);
  }

  private async stopDrain(key: string): Promise<void> {
    const drain = this.drains.get(key);
    this.drains.delete(key);
    await drain?.close();
  }

  /** Active streams, for tests and the log. */
  streams(): string[] {
    return [...this.drains.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.syncing;
    for (const key of [...this.drains.keys()]) await this.stopDrain(key);
    for (const sink of this.o.sinks) sink.close();
  }
}
