// Fleet gauges from a store's records: counts by presence, deployment version and status, active rollouts only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { registerFleetMetrics } from './fleet-metrics.js';
import type { DeviceRecord } from './fleet-store.js';
import type { Rollout } from './rollouts/rollout.js';

const device = (id: string, presence: DeviceRecord['presence'], versions: string[]): DeviceRecord =>
  ({
    id,
    groups: [],
    secretHash: '',
    registeredAt: '',
    presence,
    lastSeen: null,
    disabled: id === 'd4',
    telemetry: null,
    reported: {
      device: id,
      fleet: 'f',
      time: '',
      programs: versions.map((v) => ({ id: 'fw', package: 'acme/fw', version: v, status: 'ATTACHED' })),
    },
  }) as unknown as DeviceRecord;

const rollout = (id: string, state: Rollout['state'], statuses: string[]): Rollout =>
  ({
    id,
    state,
    spec: { package: 'acme/fw', version: '2.0.0' },
    devices: Object.fromEntries(statuses.map((status, i) => [`d${i}`, { status }])),
  }) as unknown as Rollout;

test('devices by presence, deployments by version and status, rollouts; no series names a device', async () => {
  const registry = new Registry();
  registerFleetMetrics(registry, {
    devices: () => [
      device('d1', 'online', ['1.0.0']),
      device('d2', 'online', ['2.0.0']),
      device('d3', 'offline', ['1.0.0']),
      device('d4', 'unknown', []),
    ],
    rollouts: () => [
      rollout('r1', 'RUNNING', ['SUCCEEDED', 'IN_PROGRESS', 'PENDING', 'FAILED']),
      rollout('r0', 'COMPLETED', ['SUCCEEDED']),
    ],
  });
  const text = await registry.metrics();
  assert.match(text, /^bpfleet_edge_devices\{presence="online",disabled="false"\} 2$/m);
  assert.match(text, /^bpfleet_edge_devices\{presence="unknown",disabled="true"\} 1$/m);
  assert.match(text, /^bpfleet_edge_deployments\{package="acme\/fw",version="1.0.0",status="ATTACHED"\} 2$/m);
  assert.match(text, /^bpfleet_edge_rollouts\{state="COMPLETED"\} 1$/m);
  assert.match(
    text,
    /^bpfleet_edge_rollout_devices\{rollout="r1",package="acme\/fw",version="2.0.0",status="PENDING"\} 1$/m,
  );
  assert.match(
    text,
    /^bpfleet_edge_rollout_progress_ratio\{rollout="r1",package="acme\/fw",version="2.0.0"\} 0.5$/m,
  );
  assert.doesNotMatch(text, /rollout="r0"/, 'finished rollouts leave only their count by state');
  assert.doesNotMatch(text, /d[1-4]/);
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
});
