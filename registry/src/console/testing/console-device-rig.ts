// A served edge with its fleet on, one registered device connected over MQTT with its issued login, and headless
// Chromium: what the console's device views are tested against.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt, { type MqttClient } from 'mqtt';
import { type BrowserContext, chromium } from 'playwright-core';
import { createApp } from '../../app.js';
import { type FleetRuntime, startFleetRuntime } from '../../fleet/fleet-runtime.js';
import { silentLogger } from '../../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../../testing/serve-fixture.js';
import { createTestKeys } from '../../testing/test-keys.js';

export interface ConsoleDeviceRig {
  fx: RegistryFixture;
  runtime: FleetRuntime;
  served: ServedFixture;
  /** The device's own MQTT connection (publishes as the device would). */
  device: MqttClient;
  browser: BrowserContext;
  close(): Promise<void>;
}

export async function startConsoleDeviceRig(fleet: string, deviceId: string): Promise<ConsoleDeviceRig> {
  const dir = await mkdtemp(join(tmpdir(), `bpfleet-${fleet}-console-`));
  const rig: Partial<ConsoleDeviceRig> = {};
  rig.close = async () => {
    await rig.browser?.close();
    await rig.device?.endAsync();
    await rig.served?.close();
    await rig.runtime?.stop();
    await rig.fx?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    rig.fx = await createRegistryFixture({ keys: createTestKeys() });
    const operator = await writeKeyPair(dir, 'operator');
    rig.runtime = await startFleetRuntime({
      fleet,
      dataDir: dir,
      catalog: rig.fx.catalog,
      logger: silentLogger,
      brokerHost: '127.0.0.1',
      brokerPort: 0,
      operatorKeyFiles: [operator.publicKeyPath],
    });
    rig.served = await serveFixture({
      ...rig.fx,
      app: createApp({ ...rig.fx.deps, fleet: rig.runtime.deps }).app,
    });
    const res = await fetch(`${rig.served.url}/v1/fleet/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rig.fx.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: deviceId, groups: [] }),
    });
    const reg = (await res.json()) as { broker: { url: string; username: string; password: string } };
    rig.device = await mqtt.connectAsync(reg.broker.url, {
      clientId: reg.broker.username,
      username: reg.broker.username,
      password: reg.broker.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    rig.browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
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
    return rig as ConsoleDeviceRig;
  } catch (err) {
    await rig.close();
    throw err;
  }
}
