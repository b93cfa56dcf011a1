// The served OpenAPI document, with the fleet API mounted, passes Redocly's recommended rules: a linter no one here wrote.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { createTestKeys } from '../testing/test-keys.js';

let dir: string;
let fx: RegistryFixture;
let runtime: FleetRuntime;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpfleet-openapi-'));
  fx = await createRegistryFixture({ keys: createTestKeys() });
  runtime = await startFleetRuntime({
    fleet: 'acme',
    dataDir: dir,
    catalog: fx.catalog,
    logger: silentLogger,
    brokerHost: '127.0.0.1',
    brokerPort: 0,
    operatorKeyFiles: [],
  });
});
after(async () => {
  await runtime.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

test('the whole API passes the recommended OpenAPI rules with no error or warning', async () => {
  const app = createApp({ ...fx.deps, fleet: runtime.deps }).app;
  const source = await (await app.request('/v1/openapi.json')).text();
  const problems = await lintFromString({
    source,
    absoluteRef: 'openapi.json',
    config: await createConfig({ extends: ['recommended'] }),
  });
  assert.deepEqual(
    problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    [],
  );
});
