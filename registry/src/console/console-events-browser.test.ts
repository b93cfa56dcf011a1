// The console's program events view in headless Chromium: a device's records (sent over MQTT as the device, with
// its issued login) listed with their stream's losses; a hostile field value stays text.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deviceTopic, type ProgramEventBatch } from '@bpfleet/sdk/protocol';
import { type ConsoleDeviceRig, startConsoleDeviceRig } from './testing/console-device-rig.js';

const HOSTILE = '<img src=x onerror="window.pwned=1">';
let rig: ConsoleDeviceRig;

before(async () => {
  rig = await startConsoleDeviceRig('evs', 'evs-cpe');
});
after(() => rig?.close());

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
  await rig.device.publishAsync(deviceTopic('evs', 'evs-cpe', 'events'), JSON.stringify(batch), { qos: 1 });
  const page = rig.browser.pages()[0] ?? (await rig.browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${rig.served.url}/console`);
  await page.getByLabel('Admin token').fill(rig.fx.adminToken);
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
