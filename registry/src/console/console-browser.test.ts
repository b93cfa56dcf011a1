// The console in a real headless Chromium (Debian's, driven by playwright-core) against an edge with its fleet.
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { signPolicy } from '@bpfleet/sdk/policy';
import { deviceTopic } from '@bpfleet/sdk/protocol';
import { moveChannel, RegistryClient } from '@bpfleet/sdk/registry-client';
import { toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { buildSignedPackage } from '../testing/signed-package.js';
import { createTestKeys, createTestPublisher } from '../testing/test-keys.js';

const CHROMIUM = '/usr/bin/chromium';
// Everything that would reach outside this machine is off; the profile is fresh for every run.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOSTILE = '<img src=x onerror="window.pwned=1">';

const assertChromium = () =>
  access(CHROMIUM).catch(() => {
    throw new Error(
      `console browser test: ${CHROMIUM} not found: run scripts/setup.sh (it installs chromium)`,
    );
  });

// Counted as a failure of its own, so a machine without the browser never looks like a pass.
test('Debian chromium is installed for the console test', assertChromium);

interface Registered {
  fleet: string;
  broker: { url: string; username: string; password: string };
}

describe('console in headless Chromium', () => {
  let dir: string;
  let fx: RegistryFixture;
  let runtime: FleetRuntime;
  let served: ServedFixture;
  let device: MqttClient;
  let fleet: string;
  let browser: BrowserContext;
  let page: Page;
  let digest: string;
  let signer: string;
  const pageErrors: string[] = [];

  const admin = (path: string, body: unknown, method = 'POST') =>
    fetch(`${served.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const telemetry = (time: Date, value: number) =>
    device.publishAsync(
      deviceTopic(fleet, 'cpe-1', 'telemetry'),
      JSON.stringify({
        time: time.toISOString(),
        metrics: [{ deployment: 'fw', map: 'stats', name: 'packets', key: 'pass', value }],
      }),
      { qos: 1 },
    );

  before(async () => {
    await access(CHROMIUM).catch(() => {
      throw new Error(
        `console browser test: ${CHROMIUM} not found: run scripts/setup.sh (it installs chromium)`,
      );
    });
    dir = await mkdtemp(join(tmpdir(), 'bpfleet-console-'));
    fx = await createRegistryFixture({ keys: createTestKeys() });
    const operator = await writeKeyPair(dir, 'operator');
    runtime = await startFleetRuntime({
      fleet: 'acme',
      dataDir: dir,
      catalog: fx.catalog,
      logger: silentLogger,
      brokerHost: '127.0.0.1',
      brokerPort: 0,
      operatorKeyFiles: [operator.publicKeyPath],
    });
    served = await serveFixture({ ...fx, app: createApp({ ...fx.deps, fleet: runtime.deps }).app });

    // A real signed package, so the console has a digest and a signer key id to show.
    const client = new RegistryClient({ url: served.url, token: fx.adminToken });
    const publisher = createTestPublisher();
    await client.createNamespace('acme');
    await client.addPublisherKey('acme', publisher.pair.publicKeyPem);
    const token = (await client.createToken('acme', 'ci')).token;
    const publish = async (version: string) => {
      const pkg = await buildSignedPackage('acme/xdp-firewall', version, publisher.signing);
      await new RegistryClient({ url: served.url, token }).publish({
        namespace: 'acme',
        name: 'xdp-firewall',
        version,
        archive: pkg.archive,
        bundle: pkg.bundle,
      });
      return pkg;
    };
    await publish('1.1.0');
    await client.yank('acme', 'xdp-firewall', '1.1.0', { reason: 'drops ARP' });
    const pkg = await publish('1.2.0');
    await moveChannel(
      client,
      publisher.signing,
      { namespace: 'acme', name: 'xdp-firewall' },
      'stable',
      '1.2.0',
    );
    digest = pkg.digest;
    signer = publisher.signing.keyId;

    // A device registered over the API, connected with the credentials it was issued.
    const res = await admin('/v1/fleet/devices', { id: 'cpe-1', groups: ['gateways'] });
    assert.equal(res.status, 201);
    const reg = (await res.json()) as Registered;
    fleet = reg.fleet;
    device = await mqtt.connectAsync(reg.broker.url, {
      clientId: reg.broker.username,
      username: reg.broker.username,
      password: reg.broker.password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const source = `bpfleet/v1/${fleet}/grp/gateways/desired`;
    await device.publishAsync(deviceTopic(fleet, 'cpe-1', 'presence'), 'online', { qos: 1, retain: true });
    await device.publishAsync(
      deviceTopic(fleet, 'cpe-1', 'reported'),
      JSON.stringify({
        device: 'cpe-1',
        fleet,
        time: new Date().toISOString(),
        policies: {},
        policyErrors: {
          'bpfleet/v1/x/dev/cpe-1/desired': {
            code: 'TARGET_EXCLUDED',
            message: 'policy serial 2: target.where leaves this device out: kernel 6.18.0-hei is not >=99',
          },
        },
        inventory: {
          arch: 'x86',
          endianness: 'little',
          kernel: { release: '6.18.0-hei', version: '<b>#1</b> SMP', buildId: 'abcd' },
          btf: 'kernel',
          libbpf: '1.1',
          capabilities: ['CAP_BPF'],
          programTypes: { xdp: true },
          attachTypes: {},
          agentVersion: '0.1.0',
          memoryBytes: 2 ** 31,
        },
        programs: [
          {
            id: 'fw',
            package: 'acme/xdp-firewall',
            wanted: '^1.2',
            source,
            status: 'ATTACHED',
            version: '1.2.0',
            digest,
            attach: { interface: 'wan0', mode: 'native' },
          },
          {
            id: 'probe',
            package: 'acme/conn-probe',
            wanted: '1.0.0',
            source,
            status: 'FAILED',
            lastError: { code: 'VERIFIER_REJECTED', message: HOSTILE },
          },
          {
            id: 'guard',
            package: 'acme/xdp-firewall',
            wanted: '^1.2',
            source,
            status: 'DRIFTED',
            version: '1.2.0',
            attach: { interface: 'wan1' },
            lastError: { code: 'DRIFT_TARGET_MISSING', message: 'check guard: interface wan1 is gone' },
          },
        ],
      }),
      { qos: 1, retain: true },
    );
    await telemetry(new Date(), 10);

    // A group policy signed by the operator, then a one-wave rollout of the published version.
    const policy = await signPolicy(
      {
        apiVersion: 'bpfleet/v1',
        kind: 'Policy',
        serial: 1,
        expires: '2099-01-01T00:00:00Z',
        target: { group: 'gateways' },
        fleet,
        programs: [
          { id: 'fw', package: 'acme/xdp-firewall', version: '^1.2', attach: { interface: 'wan0' } },
        ],
      },
      toSigningKey(await readFile(operator.privateKeyPath, 'utf8')),
    );
    const applied = await admin('/v1/fleet/policies', policy, 'PUT');
    assert.equal(applied.status, 200, await applied.clone().text());
    const rollout = await admin('/v1/fleet/rollouts', {
      group: 'gateways',
      package: 'acme/xdp-firewall',
      version: '1.2.0',
      waves: [1],
    });
    assert.equal(rollout.status, 201, await rollout.clone().text());

    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 1000 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    await device?.endAsync();
    await served?.close();
    await runtime?.stop();
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks for the token once, keeps it out of the URL, then shows versions with digest, signer, channel, yank', async () => {
    await page.goto(`${served.url}/console`);
    await page.getByLabel('Admin token').fill(fx.adminToken);
    await page.getByRole('button', { name: 'Open console' }).click();
    const packages = page.getByRole('table', { name: 'Packages' });
    const row = packages.getByRole('row', { name: /acme\/xdp-firewall 1\.2\.0 stable/ });
    await row.waitFor();
    const digestCell = row.locator(`code[title="${digest}"]`);
    assert.equal(await digestCell.textContent(), `${digest.slice(0, 'sha256:'.length + 12)}…`);
    assert.equal(await row.locator(`code[title="${signer}"]`).count(), 1, 'signer key id shown');
    const yanked = packages.getByRole('row', { name: /acme\/xdp-firewall 1\.1\.0/ }).locator('.badge');
    assert.equal(await yanked.textContent(), 'yanked');
    assert.equal(await yanked.getAttribute('title'), 'drops ARP');
    assert.equal(new URL(page.url()).search, '');
    assert.equal(await page.evaluate("sessionStorage.getItem('bpfleet.console.token')"), fx.adminToken);
  });

  it('shows the device online, what runs where with its version and attach point, and errors as red text', async () => {
    const devices = page.getByRole('table', { name: 'Devices' });
    await devices.getByRole('row', { name: /cpe-1 online gateways/ }).waitFor();
    const host = devices.getByRole('row', { name: /cpe-1/ }).locator('td span[title]');
    assert.equal(await host.textContent(), 'x86 6.18.0-hei · BTF kernel', 'the inventory, in brief');
    assert.match((await host.getAttribute('title')) ?? '', /<b>#1<\/b> SMP\nbuild id abcd\n.*2\.0 GiB/);
    const runs = page.getByRole('table', { name: 'What runs where' });
    const left = runs.getByRole('row', { name: /left out by policy/ }).locator('.muted');
    assert.match(
      (await left.textContent()) ?? '',
      /not >=99$/,
      'a left-out device is told apart from an error',
    );
    const health = devices.getByRole('row', { name: /cpe-1/ }).locator('td').last();
    assert.match(
      (await health.textContent()) ?? '',
      /, 2 errors$/,
      'FAILED and DRIFTED; the exclusion is none',
    );
    const fw = runs.getByRole('row', { name: /cpe-1 fw/ });
    await fw.waitFor();
    assert.match((await fw.textContent()) ?? '', /acme\/xdp-firewall@1\.2\.0.*ATTACHED.*wan0 · native/);
    const error = runs.getByRole('row', { name: /cpe-1 probe/ }).locator('.error-text');
    assert.equal(await error.textContent(), `VERIFIER_REJECTED: ${HOSTILE}`, 'shown as text, never as HTML');
    assert.equal(
      await page.evaluate("getComputedStyle(document.querySelector('#programs .error-text')).color"),
      'rgb(179, 38, 30)',
    );
    assert.equal(await page.evaluate("'pwned' in window"), false);
    const drifted = runs.getByRole('row', { name: /cpe-1 guard/ });
    assert.equal(await drifted.locator('.badge').textContent(), 'DRIFTED');
    assert.equal(
      await drifted.locator('.badge').getAttribute('class'),
      'badge bad',
      'a drift is shown as bad',
    );
    assert.equal(
      await drifted.locator('.error-text').textContent(),
      'DRIFT_TARGET_MISSING: check guard: interface wan1 is gone',
    );
  });

  it('shows the rollout with its wave and the per-device state', async () => {
    const wave = page.locator('#rollouts table').getByRole('row', { name: /^1/ });
    await wave.waitFor();
    assert.match(
      (await page.locator('#rollouts h3').first().textContent()) ?? '',
      /gateways ← acme\/xdp-firewall@1\.2\.0/,
    );
    assert.match((await wave.textContent()) ?? '', /cpe-1 (PENDING|IN_PROGRESS|SUCCEEDED)/);
  });

  it('shows a live counter whose value and rate move with the next telemetry report', async () => {
    const counter = page
      .getByRole('table', { name: 'Live counters' })
      .getByRole('row', { name: /cpe-1 fw packets/ });
    await counter.waitFor();
    assert.equal(await counter.locator('.value').textContent(), '10');
    const first = runtime.deps.store.getDevice('cpe-1')?.telemetry?.time;
    assert.ok(first);
    await telemetry(new Date(Date.parse(first) + 1000), 25);
    await counter.locator('.value', { hasText: /^25$/ }).waitFor();
    assert.equal(await counter.locator('.rate').textContent(), '15');
    const shot = process.env.BPFLEET_CONSOLE_SCREENSHOT;
    if (shot) await page.screenshot({ path: shot, fullPage: true });
  });

  it('goes back to the token form when the edge answers 401, with the reason on the page', async () => {
    await page.evaluate("sessionStorage.setItem('bpfleet.console.token', 'bpf_revoked')");
    await page.getByLabel('Admin token').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /401/);
    assert.equal(await page.locator('#views').isHidden(), true);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Open console' }).click();
    await page.getByRole('alert').filter({ hasText: '401' }).waitFor();
    assert.equal(await page.getByLabel('Admin token').isVisible(), true);
    assert.deepEqual(pageErrors, []);
  });

  it('says plainly when an edge has no packages and runs without its fleet', async () => {
    const empty = await createRegistryFixture({ keys: createTestKeys() });
    const bare = await serveFixture(empty);
    try {
      await page.goto(`${bare.url}/console`);
      await page.getByLabel('Admin token').fill(empty.adminToken);
      await page.getByRole('button', { name: 'Open console' }).click();
      await page.getByText('No packages yet — publish one with bpfleet publish.').waitFor();
      await page.locator('#devices-empty', { hasText: 'runs without its fleet' }).waitFor();
      assert.equal(await page.getByRole('table', { name: 'Packages' }).isHidden(), true);
      assert.deepEqual(pageErrors, []);
    } finally {
      await bare.close();
      await empty.close();
    }
  });
});
