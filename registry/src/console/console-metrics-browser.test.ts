// The console's telemetry history in headless Chromium: a device's reports (sent over MQTT with its issued login)
// drawn as SVG sparklines (a counter's rate, a gauge's average); a hostile key stays text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { type ConsoleDeviceRig, startConsoleDeviceRig } from './testing/console-device-rig.js';

const HOSTILE = 'verdict=<img src=x onerror="window.pwned=1">';
let rig: ConsoleDeviceRig;

before(async () => {
  rig = await startConsoleDeviceRig('hist', 'hist-cpe');
});
after(() => rig?.close());

test("a device's series are drawn as sparklines: a counter's rate, a gauge's average, keys as text", async () => {
  // Read 10 s apart on the device: the counter rises 10, 20, 30 (rates 1, 2, 3 /s), the gauge stays at 4.
  const base = Date.now() - 60_000;
  for (const [i, pkts] of [0, 10, 30, 60].entries()) {
    const metrics = [
      { deployment: 'fw', map: 'verdicts', name: 'pkts_total', key: HOSTILE, value: pkts },
      { deployment: 'fw', map: 'queue', name: 'queue_depth', key: '', value: 4 },
    ];
    const time = new Date(base + i * 10_000).toISOString();
    await rig.device.publishAsync(
      deviceTopic('hist', 'hist-cpe', 'telemetry'),
      JSON.stringify({ time, metrics }),
      {
        qos: 1,
      },
    );
  }
  const page = rig.browser.pages()[0] ?? (await rig.browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${rig.served.url}/console`);
  await page.getByLabel('Admin token').fill(rig.fx.adminToken);
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
