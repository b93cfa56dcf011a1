// The console's telemetry history in headless Chromium: a device's reports (sent over MQTT with its issued login)
// drawn as SVG sparklines (a counter's rate, a gauge's average); a hostile key stays text.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrowserContext, chromium } from 'playwright-core';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

const HOSTILE = 'verdict=<img src=x onerror="window.pwned=1">';
let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let served: ServedFixture;
let device: MqttClient;
let browser: BrowserContext;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-hist-console-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const operator = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'hist',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [operator.publicKeyPath],
  });
  served = await serveFixture({ ...fx, app: createApp({ ...fx.deps, fleet: runtime.deps }).app });
  const res = await fetch(`${served.url}/v1/fleet/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'hist-cpe', groups: [] }),
  });
  const reg = (await res.json()) as { broker: { url: string; username: string; password: string } };
  device = await mqtt.connectAsync(reg.broker.url, {
    clientId: reg.broker.username,
    username: reg.broker.username,
    password: reg.broker.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
});

after(async () => {
  await browser?.close();
  await device?.endAsync();
  await served?.close();
  await runtime?.stop();
  await fx?.close();
  await rm(dir, { recursive: true, force: true });
});

test("a device's series are drawn as sparklines: a counter's rate, a gauge's average, keys as text", async () => {
  // Read 10 s apart on the device: the counter rises 10, 20, 30 (rates 1, 2, 3 /s), the gauge stays at 4.
  const base = Date.now() - 60_000;
  for (const [i, pkts] of [0, 10, 30, 60].entries()) {
    const metrics = [
      { deployment: 'fw', map: 'verdicts', name: 'pkts_total', key: HOSTILE, value: pkts },
      { deployment: 'fw', map: 'queue', name: 'queue_depth', key: '', value: 4 },
    ];
    const time = new Date(base + i * 10_000).toISOString();
    await device.publishAsync(
      deviceTopic('hist', 'hist-cpe', 'telemetry'),
      JSON.stringify({ time, metrics }),
      {
        qos: 1,
      },
    );
  }
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${served.url}/console`);
  await page.getByLabel('Admin token').fill(fx.adminToken);
  await page.getByRole('button', { name: 'Open console' }).click();
  const table = page.getByRole('table', { name: 'Telemetry, last hour' });
  const counter = table.getByRole('row', { name: /hist-cpe fw pkts_total/ });
  await counter.getByRole('img', { name: 'rate per second from 1 to 3' }).waitFor({ timeout: 15_000 });
  assert.equal(await counter.locator('polyline').getAttribute('points'), '0,24 60,12 120,0');
  assert.match(
    (await counter.textContent()) ?? '',
    /verdict=<img src=x onerror="window.pwned=1">3\/s/,
    'as text',
  );
  const gauge = table.getByRole('row', { name: /hist-cpe fw queue_depth/ });
  assert.ok(await gauge.getByRole('img', { name: 'average from 4 to 4' }).isVisible());
  assert.equal(await gauge.locator('polyline').getAttribute('points'), '0,12 40,12 80,12 120,12');
  assert.equal(await page.evaluate("'pwned' in window"), false);
  assert.deepEqual(errors, []);
});
