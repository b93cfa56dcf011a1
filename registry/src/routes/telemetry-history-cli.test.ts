// Telemetry over time against a served edge: a device's reports over MQTT (its issued login) become series that
// GET /v1/fleet/devices/:id/metrics returns over a real socket and `bpfleet fleet device <id> --metrics` prints.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@bpfleet/sdk/errors'))), 'cli', 'main.js');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('telemetry history on a served edge', () => {
  let dir: string;
  let fx: RegistryFixture;
  let runtime: FleetRuntime;
  let served: ServedFixture;

  // biome-ignore lint/suspicious/noExplicitAny: response bodies read by the assertions
  type Body = any;
  const get = async (
    path: string,
    token: string | null = fx.adminToken,
  ): Promise<{ status: number; body: Body }> => {
    const res = await fetch(`${served.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: await res.json() };
  };

  async function bpfleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const env = { PATH: process.env.PATH ?? '', XDG_CONFIG_HOME: dir, HOME: dir };
      const { stdout, stderr } = await run(
        process.execPath,
        [CLI, ...args, '--registry', served.url, '--token', fx.adminToken],
        { env, cwd: dir },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpfleet-hist-'));
    fx = await createRegistryFixture({ keys: createTestKeys() });
    const files = await writeKeyPair(dir, 'operator');
    runtime = await startFleetRuntime({
      fleet: 'hist',
      dataDir: dir,
      catalog: fx.catalog,
      logger: silentLogger,
      brokerHost: '127.0.0.1',
      brokerPort: 0,
      operatorKeyFiles: [files.publicKeyPath],
    });
    served = await serveFixture({ ...fx, app: createApp({ ...fx.deps, fleet: runtime.deps }).app });
    const res = await fetch(`${served.url}/v1/fleet/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'hist-1' }),
    });
    const { broker } = (await res.json()) as { broker: { url: string; username: string; password: string } };
    const client = await mqtt.connectAsync(broker.url, { clientId: 'hist-1', ...broker, protocolVersion: 4 });
    // A counter that rises, then resets (the program reloaded), beside a gauge; read 10 s apart on the device.
    const base = Date.now() - 60_000;
    for (const [i, pkts, depth] of [
      [0, 10, 7],
      [1, 25, 3],
      [2, 5, 5],
    ] as const) {
      const metrics = [
        { deployment: 'fw', map: 'verdicts', name: 'pkts_total', key: 'verdict=pass', value: pkts },
        { deployment: 'fw', map: 'queue', name: 'queue_depth', key: '', value: depth },
      ];
      await client.publishAsync(
        deviceTopic('hist', 'hist-1', 'telemetry'),
        JSON.stringify({ time: new Date(base + i * 10_000).toISOString(), metrics }),
        { qos: 1 },
      );
      await sleep(40);
    }
    await client.endAsync();
    for (let i = 0; i < 100; i++) {
      const { body } = await get('/v1/fleet/devices/hist-1/metrics?name=pkts_total');
      if (body.series[0]?.points.length === 3) break;
      await sleep(20);
    }
  });

  after(async () => {
    await served?.close();
    await runtime?.stop();
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves raw samples of the last hour, a counter with its rate across a reset', async () => {
    const { status, body } = await get('/v1/fleet/devices/hist-1/metrics?name=pkts_total&since=30m');
    assert.equal(status, 200);
    assert.equal(body.stepSeconds, 0);
    assert.equal(body.series.length, 1, 'only the named metric');
    const [s] = body.series;
    assert.deepEqual([s.deployment, s.map, s.key, s.counter], ['fw', 'verdicts', 'verdict=pass', true]);
    assert.deepEqual(
      s.points.map((p: { last: number }) => p.last),
      [10, 25, 5],
    );
    const [first, second, third] = s.points;
    assert.equal(first.rate, undefined, 'no rate before a second sample');
    assert.ok(
      second.rate > 0 && third.rate > 0,
      `rates positive across the reset: ${second.rate}, ${third.rate}`,
    );
    // 15 more in 10 s of the device's clock, then from 0 to 5 in the next 10 s.
    assert.deepEqual([second.rate, third.rate], [1.5, 0.5]);

    const minute = (await get('/v1/fleet/devices/hist-1/metrics?step=1m')).body;
    assert.equal(minute.stepSeconds, 60);
    const gauge = minute.series.find((x: { name: string }) => x.name === 'queue_depth');
    assert.equal(gauge.counter, false);
    const samples = gauge.points.reduce((n: number, p: { samples: number }) => n + p.samples, 0);
    assert.equal(samples, 3);
    assert.equal(Math.min(...gauge.points.map((p: { min: number }) => p.min)), 3);
    assert.equal(Math.max(...gauge.points.map((p: { max: number }) => p.max)), 7);
  });

  it('refuses a bad since, an anonymous caller and an unknown device', async () => {
    const bad = await get('/v1/fleet/devices/hist-1/metrics?since=yesterday');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error?.code ?? bad.body.code, 'INVALID_PARAMETER');
    assert.equal((await get('/v1/fleet/devices/hist-1/metrics?step=5x')).status, 400);
    assert.equal((await get('/v1/fleet/devices/hist-1/metrics', null)).status, 401);
    assert.equal((await get('/v1/fleet/devices/hist-none/metrics')).status, 404);
  });

  it('bpfleet fleet device --metrics prints the series, --json the route body, bad --since is a usage error', async () => {
    const text = await bpfleet('fleet', 'device', 'hist-1', '--metrics');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^hist-1: raw samples since /);
    assert.match(
      text.stdout,
      /fw pkts_total\{verdict=pass\}\s+rate 0.5000\/s \(min 0.5000, max 1.500\)\s+█▁\s+3 points/,
    );
    assert.match(text.stdout, /fw queue_depth\s+last 5 \(min 3, max 7\)\s+█▁▅\s+3 points/);
    const json = await bpfleet(
      'fleet',
      'device',
      'hist-1',
      '--metrics',
      'queue_depth',
      '--step',
      '1m',
      '--json',
    );
    assert.equal(json.code, 0, json.stderr);
    const view = JSON.parse(json.stdout);
    assert.equal(view.stepSeconds, 60);
    assert.deepEqual(
      view.series.map((s: { name: string }) => s.name),
      ['queue_depth'],
    );
    const usage = await bpfleet('fleet', 'device', 'hist-1', '--metrics', '--since', 'yesterday');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--since yesterday: expected a duration/);
  });

  it('a removed device leaves no history behind', async () => {
    const del = await fetch(`${served.url}/v1/fleet/devices/hist-1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${fx.adminToken}` },
    });
    assert.equal(del.status, 204);
    await fetch(`${served.url}/v1/fleet/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'hist-1' }),
    });
    assert.deepEqual((await get('/v1/fleet/devices/hist-1/metrics')).body.series, []);
  });
});
