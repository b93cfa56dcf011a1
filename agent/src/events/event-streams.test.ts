// The agent's event streams on the real kernel: a program's ring drained by the agent's own service, every record
// accounted for (the JSON-lines file and bpftool are the observers), the budget sampling and counting what it drops.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Collection, loadCollection, testRun } from '@bpfleet/sdk/bpf';
import { type ProgramEventBatch, parseProgramEventBatch } from '@bpfleet/sdk/protocol';
import { Registry } from 'prom-client';
import { DeploymentMetaStore } from '../deployments/deployment-meta.js';
import { silentLogger } from '../logger.js';
import { EventMetrics } from '../metrics/event-metrics.js';
import { EventStreams } from './event-streams.js';
import type { EventsConfig } from './events-config.js';
import { JsonLinesSink } from './jsonl-sink.js';
import { MqttEventSink } from './mqtt-event-sink.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FRAME = new Uint8Array(64);
const RECORD = { seq: 'u64', cpu: 'u32', tag: 'u32' } as const;

interface Rig {
  coll: Collection;
  streams: EventStreams;
  registry: Registry;
  batches: ProgramEventBatch[];
  sinkPath: string;
  lostMapId: number;
  /** As an upgrade leaves it: the next version's maps under the same pins (tag 8), its record rewritten. */
  upgrade(): Promise<Collection>;
  cleanup(): Promise<void>;
}

/** A deployment as the loader leaves it: maps pinned under <pinRoot>/<id>/maps, its record in the meta dir. */
async function rig(config: EventsConfig): Promise<Rig> {
  const coll = await loadCollection(readFileSync(join(ROOT, 'build', 'bpf', 'event_burst.bpf.o')), {
    config: { tag: 7 },
  });
  const pinRoot = `/sys/fs/bpf/evs-test-${process.pid}-${Date.now()}`;
  const data = mkdtempSync(join(tmpdir(), 'evs-agent-'));
  const mapsDir = join(pinRoot, 'burst', 'maps');
  mkdirSync(mapsDir, { recursive: true });
  coll.map('burst_events').pin(join(mapsDir, 'burst_events'));
  coll.map('burst_lost').pin(join(mapsDir, 'burst_lost'));
  mkdirSync(join(data, 'deployments'));
  const deployment = { id: 'burst', package: 'evs/burst', version: '1.0.0', digest: 'sha256:0', attach: {} };
  const maps = {
    burst_events: { events: { record: RECORD, lostCounter: 'burst_lost' } },
    burst_lost: { layout: { key: 'u32', value: 'u64' } },
  };
  writeFileSync(
    join(data, 'deployments', 'burst.json'),
    JSON.stringify({ phase: 'attached', current: { deployment, programIds: {}, maps } }),
  );
  const registry = new Registry();
  const metrics = new EventMetrics(registry);
  const batches: ProgramEventBatch[] = [];
  const sinkPath = join(data, 'events', 'events.jsonl');
  const streams = new EventStreams({
    config,
    meta: new DeploymentMetaStore(join(data, 'deployments')),
    pinRoot,
    metrics,
    logger: silentLogger,
    syncMs: 100,
    sinks: [
      new MqttEventSink({
        batchRecords: config.batchRecords,
        metrics,
        // The wire form, parsed as the edge parses it.
        publish: (payload) => batches.push(parseProgramEventBatch(payload)) > 0,
      }),
      new JsonLinesSink({ path: sinkPath, maxBytes: 1 << 30, files: 2, logger: silentLogger }),
    ],
  });
  streams.start();
  const upgraded: Collection[] = [];
  return {
    coll,
    streams,
    registry,
    batches,
    sinkPath,
    lostMapId: coll.map('burst_lost').info.id,
    async upgrade() {
      const next = await loadCollection(readFileSync(join(ROOT, 'build', 'bpf', 'event_burst.bpf.o')), {
        config: { tag: 8 },
      });
      upgraded.push(next);
      for (const name of ['burst_events', 'burst_lost']) {
        rmSync(join(mapsDir, name));
        next.map(name).pin(join(mapsDir, name));
      }
      writeFileSync(
        join(data, 'deployments', 'burst.json'),
        JSON.stringify({
          phase: 'attached',
          current: { deployment: { ...deployment, version: '1.1.0' }, programIds: {}, maps },
        }),
      );
      return next;
    },
    async cleanup() {
      await streams.stop();
      coll.close();
      for (const c of upgraded) c.close();
      rmSync(pinRoot, { recursive: true, force: true });
      rmSync(data, { recursive: true, force: true });
    },
  };
}

function bpftoolLost(mapId: number): number {
  const out = JSON.parse(
    execFileSync('bpftool', ['-j', 'map', 'lookup', 'id', String(mapId), 'key', '0', '0', '0', '0'], {
      encoding: 'utf8',
    }),
  );
  return (out.values as Array<{ value: string[] }>).reduce(
    (sum, v) => sum + Number(Buffer.from(v.value.map(Number)).readBigUInt64LE(0)),
    0,
  );
}

/** Slot 0 of burst_seq (an array): how many times the program ran. */
function bpftoolSeq(mapId: number): number {
  const out = JSON.parse(
    execFileSync('bpftool', ['-j', 'map', 'lookup', 'id', String(mapId), 'key', '0', '0', '0', '0'], {
      encoding: 'utf8',
    }),
  );
  return Number(Buffer.from((out.value as string[]).map(Number)).readBigUInt64LE(0));
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ labels: Record<string, string>; value: number }>;
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((s, v) => s + v.value, 0);
}

async function emit(r: Rig, total: number): Promise<void> {
  while (r.streams.streams().length === 0) await new Promise((res) => setTimeout(res, 20));
  for (let runs = 0; runs < total; runs += 2000) {
    testRun(r.coll.program('emit_burst'), FRAME, { repeat: Math.min(2000, total - runs) });
    await yieldToLoop();
  }
}

function sinkLines(
  path: string,
): Array<{ record?: { seq: number; tag: number }; lost?: Record<string, number> }> {
  const files = readdirSync(dirname(path)).filter((f) => f.startsWith('events.jsonl'));
  return files.flatMap((f) =>
    readFileSync(join(dirname(path), f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
}

const UNLIMITED: EventsConfig = {
  ratePerSecond: 10_000_000,
  burst: 100_000_000,
  batchRecords: 500,
  flushMs: 50,
};

test('1,000,000 records through the agent: delivered + lost = emitted, in the sink, on the wire and in the counters', async () => {
  const r = await rig(UNLIMITED);
  try {
    const EMITTED = 1_000_000;
    await emit(r, EMITTED);
    await new Promise((res) => setTimeout(res, 500));
    await r.streams.stop();
    const lines = sinkLines(r.sinkPath).filter((l) => l.record);
    const lost = bpftoolLost(r.lostMapId);
    const seqs = new Set(lines.map((l) => l.record?.seq));
    console.log(`agent: emitted ${EMITTED}, delivered ${lines.length}, lost (ring full) ${lost}`);
    assert.equal(seqs.size, lines.length, 'no record twice');
    assert.ok(
      lines.every((l) => l.record?.tag === 7),
      'records decoded by the layout',
    );
    assert.equal(lines.length + lost, EMITTED);
    const wire = r.batches.reduce((n, b) => n + b.records.length, 0);
    assert.equal(wire, lines.length, 'every delivered record was published');
    assert.equal(
      r.batches.reduce((n, b) => n + b.lost.ringFull, 0),
      lost,
      'the batches say how many the ring refused',
    );
    let next = 0;
    for (const b of r.batches) {
      assert.equal(b.first, next, 'batches number their records without gaps');
      next += b.records.length;
    }
    const labels = { deployment: 'burst', stream: 'burst_events' };
    assert.equal(await counter(r.registry, 'bpfleet_events_total', labels), lines.length);
    assert.equal(
      await counter(r.registry, 'bpfleet_events_lost_total', { ...labels, reason: 'ring_full' }),
      lost,
    );
  } finally {
    await r.cleanup();
  }
});

test('over the budget, records are sampled and the dropped ones counted: delivered + budget + ring full = emitted', async () => {
  const r = await rig({ ratePerSecond: 2000, burst: 1000, batchRecords: 200, flushMs: 50 });
  try {
    const EMITTED = 100_000;
    const started = performance.now();
    await emit(r, EMITTED);
    await new Promise((res) => setTimeout(res, 300));
    await r.streams.stop();
    const seconds = (performance.now() - started) / 1000;
    const delivered = sinkLines(r.sinkPath).filter((l) => l.record).length;
    const ringFull = bpftoolLost(r.lostMapId);
    const budget = r.batches.reduce((n, b) => n + b.lost.budget, 0);
    console.log(
      `budget: emitted ${EMITTED} in ${seconds.toFixed(1)} s: delivered ${delivered}, budget ${budget}, ring full ${ringFull}`,
    );
    assert.equal(delivered + budget + ringFull, EMITTED);
    assert.ok(budget > 0, 'the budget dropped records');
    assert.ok(delivered <= 1000 + 2000 * seconds + 1, `no more than the budget allows (${delivered})`);
    const labels = { deployment: 'burst', stream: 'burst_events' };
    assert.equal(
      await counter(r.registry, 'bpfleet_events_lost_total', { ...labels, reason: 'budget' }),
      budget,
    );
  } finally {
    await r.cleanup();
  }
});

test('an upgrade puts a new ring under the pin: the drain follows it, the drops of each version counted from its own counter', async () => {
  const r = await rig(UNLIMITED);
  try {
    await emit(r, 300_000); // fast enough that the first ring refuses some
    const next = await r.upgrade();
    // The first drain keeps its ring until the sync sees another map under the pin.
    const seen = () => r.batches.some((b) => b.version === '1.1.0');
    for (let i = 0; i < 200 && !seen(); i++) {
      testRun(next.program('emit_burst'), FRAME, { repeat: 10 });
      await new Promise((res) => setTimeout(res, 20));
    }
    const before = bpftoolSeq(next.map('burst_seq').info.id);
    for (let runs = 0; runs < 50_000; runs += 2000) {
      testRun(next.program('emit_burst'), FRAME, { repeat: 2000 });
      await yieldToLoop();
    }
    const emitted = 300_000 + before + 50_000;
    const account = () =>
      sinkLines(r.sinkPath).filter((l) => l.record).length +
      bpftoolLost(r.lostMapId) +
      bpftoolLost(next.map('burst_lost').info.id);
    // Waits for the drain to catch up (on a busy machine it takes longer than any fixed pause), then stops it.
    for (let waited = 0; waited < 30_000 && account() < emitted; waited += 100) {
      await new Promise((res) => setTimeout(res, 100));
    }
    await r.streams.stop();
    const lines = sinkLines(r.sinkPath).filter((l) => l.record);
    const lost = bpftoolLost(r.lostMapId) + bpftoolLost(next.map('burst_lost').info.id);
    const byTag = (tag: number) => lines.filter((l) => l.record?.tag === tag).length;
    console.log(
      `upgrade: emitted ${emitted}: delivered ${byTag(7)} (1.0.0) + ${byTag(8)} (1.1.0), lost ${lost}`,
    );
    assert.equal(lines.length + lost, emitted);
    assert.equal(
      r.batches.reduce((n, b) => n + b.lost.ringFull, 0),
      lost,
      "each version's ring-full drops counted once, from its own counter",
    );
    assert.ok(byTag(8) > 0, 'records of the new version delivered');
  } finally {
    await r.cleanup();
  }
});
