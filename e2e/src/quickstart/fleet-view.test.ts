// The live view's table and the readiness rule of --exit-when-ready, on hand-made fleet API answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DeviceView, deploymentCounters, fleetTable } from './fleet-view.js';
import { createReadiness } from './readiness.js';

const device = (status: string, time: string | null, pass: number): DeviceView => ({
  id: 'd1',
  groups: ['g'],
  presence: 'online',
  lastSeen: null,
  programs: [
    {
      id: 'fw',
      package: 'acme/fw',
      version: '1.0.0',
      status,
      attach: { interface: 'wan0' },
      lastError:
        status === 'ROLLED_BACK' ? { code: 'VERIFIER_REJECTED', message: 'load: verifier: R1 …' } : null,
    },
  ],
  policyErrors: {},
  telemetry:
    time === null
      ? null
      : {
          time,
          metrics: [
            {
              deployment: 'fw',
              map: 'v',
              name: 'bpfleet_fw_packets_total',
              key: 'verdict=pass',
              value: pass,
            },
            { deployment: 'fw', map: 'v', name: 'bpfleet_fw_packets_total', key: 'verdict=drop', value: 0 },
            { deployment: 'other', map: 'v', name: 'x', key: '', value: 9 },
          ],
        },
});

test('fleetTable: a row per program with its non-zero counters, errors below', () => {
  const lines = fleetTable([device('ROLLED_BACK', 't1', 12)]);
  assert.match(lines[0]!, /^DEVICE +PRESENCE +PROGRAM +PACKAGE +VERSION +STATUS +COUNTERS$/);
  assert.match(lines[1]!, /^d1 +online +fw +acme\/fw +1\.0\.0 +ROLLED_BACK +packets\{verdict=pass\}=12$/);
  assert.deepEqual(lines.slice(2), ['last errors:', '  d1/fw: VERIFIER_REJECTED: load: verifier: R1 …']);
  assert.deepEqual(fleetTable([]), ['(no devices registered yet)']);
});

test('readiness: ATTACHED and a counter seen rising between two telemetry samples', () => {
  const r = createReadiness('d1', 'fw');
  assert.equal(r.observe([]), false);
  assert.match(r.missing(), /has not reported/);
  assert.equal(r.observe([device('PENDING', 't1', 0)]), false);
  assert.match(r.missing(), /PENDING/);
  assert.equal(r.observe([device('ATTACHED', 't1', 5)]), false);
  assert.equal(r.observe([device('ATTACHED', 't1', 7)]), false, 'same sample time: not yet a rise');
  assert.equal(r.observe([device('ATTACHED', 't2', 5)]), false, 'a new sample, no rise');
  assert.equal(r.observe([device('ATTACHED', 't3', 6)]), true);
  assert.equal(r.observe([]), true, 'stays ready');
});

test('counters are named without their package: acme_count_packets_total is packets', () => {
  const d: DeviceView = {
    ...device('ATTACHED', '2026-12-03T10:00:00Z', 1),
    programs: [{ ...device('ATTACHED', null, 0).programs[0]!, id: 'count', package: 'acme/count' }],
    telemetry: {
      time: '2026-12-03T10:00:00Z',
      metrics: [
        { deployment: 'count', map: 'counts', name: 'acme_count_packets_total', key: 'slot=0', value: 20 },
        { deployment: 'count', map: 'counts', name: 'bpfleet_count_builds_total', key: 'slot=1', value: 2 },
      ],
    },
  };
  assert.deepEqual(
    [...deploymentCounters(d, 'count')],
    [
      ['packets{slot=0}', 20],
      ['builds{slot=1}', 2],
    ],
  );
});
