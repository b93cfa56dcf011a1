// The console's program events view in headless Chromium: a device's records (sent over MQTT as the device, with
// its issued login) listed with their stream's losses; a hostile field value stays text.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deviceTopic, type ProgramEventBatch } from '@bpfleet/sdk/protocol';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrowserContext, chromium } from 'playwright-core';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

const HOSTILE = '<img src=x onerror="window.pwned=1">';
let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;
let served: ServedFixture;
let device: MqttClient;
let browser: BrowserContext;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-evs-console-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  const operator = await writeKeyPair(dir, 'operator');
  runtime = await startFleetRuntime({
    fleet: 'evs',
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
    body: JSON.stringify({ id: 'evs-cpe', groups: [] }),
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

test('the newest program events of each device are listed with their stream losses, as text', async () => {
  const batch: ProgramEventBatch = {
    kind: 'program-events',
    time: new Date().toISOString(),
    deployment: 'exec',
    package: 'acme/exec-trace',
    version: '1.0.0',
    stream: 'exec_events',
    first: 40,
    records: [
      { pid: 4242, comm: 'evs-probe' },
      { pid: 4243, comm: HOSTILE },
    ],
    lost: { ringFull: 3, budget: 5, malformed: 0 },
  };
  await device.publishAsync(deviceTopic('evs', 'evs-cpe', 'events'), JSON.stringify(batch), { qos: 1 });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${served.url}/console`);
  await page.getByLabel('Admin token').fill(fx.adminToken);
  await page.getByRole('button', { name: 'Open console' }).click();
  const table = page.getByRole('table', { name: 'Program events' });
  const row = table.getByRole('row', { name: /evs-cpe exec\/exec_events #40 pid=4242 comm=evs-probe/ });
  await row.waitFor({ timeout: 15_000 });
  assert.match((await row.textContent()) ?? '', /3 ring-full · 5 budget/);
  const hostile = table.getByRole('row', { name: /#41/ });
  assert.match((await hostile.textContent()) ?? '', /comm=<img src=x onerror=/, 'shown as text');
  assert.equal(await page.evaluate("'pwned' in window"), false);
  assert.deepEqual(errors, []);
});
