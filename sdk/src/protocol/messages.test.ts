import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../testing/reliability-runs.js';
import {
  ProtocolError,
  parseAgentEvent,
  parsePresence,
  parseReportedState,
  parseTelemetry,
} from './messages.js';

const reported = {
  device: 'cpe-1',
  fleet: 'acme',
  time: '2026-11-27T10:00:00Z',
  policies: { 'bpfleet/v1/acme/dev/cpe-1/desired': { serial: 4 } },
  policyErrors: {},
  programs: [
    {
      id: 'fw',
      package: 'acme/xdp-firewall',
      wanted: 'channel:stable',
      source: 'bpfleet/v1/acme/dev/cpe-1/desired',
      status: 'ATTACHED',
      version: '1.2.0',
      digest: `sha256:${'a'.repeat(64)}`,
      attach: { interface: 'wan0', mode: 'driver' },
      maps: { blocklist_v4: 2, blocklist_v6: 0 },
    },
  ],
};

test('parses the reported state, events and presence devices publish', () => {
  assert.deepEqual(parseReportedState(JSON.stringify(reported)), reported);
  const event = {
    time: 't',
    state: 'REJECTED',
    deployment: 'fw',
    reason: { code: 'KEY_UNKNOWN', message: 'm' },
  };
  assert.deepEqual(parseAgentEvent(Buffer.from(JSON.stringify(event))), event);
  assert.equal(parsePresence('offline'), 'offline');
  const telemetry = {
    time: 't',
    metrics: [
      { deployment: 'fw', map: 'verdicts', name: 'fw_packets_total', key: 'verdict=drop', value: 12 },
    ],
  };
  assert.deepEqual(parseTelemetry(JSON.stringify(telemetry)), telemetry);
  assert.throws(
    () => parseTelemetry(JSON.stringify({ time: 't', metrics: [{ ...telemetry.metrics[0], value: 'x' }] })),
    /metrics\[0\]\.value/,
  );
});

test('drift and policy expiry are statuses and events the edge accepts', () => {
  const drifted = {
    ...reported,
    programs: [
      {
        ...reported.programs[0],
        status: 'DRIFTED',
        lastError: { code: 'DRIFT_TARGET_MISSING', message: 'check fw: interface wan0 is gone' },
      },
    ],
  };
  assert.deepEqual(parseReportedState(JSON.stringify(drifted)), drifted);
  for (const state of ['DRIFTED', 'POLICY_EXPIRED']) {
    const event = { time: 't', state, deployment: 'fw', reason: { code: 'C', message: 'm' } };
    assert.deepEqual(parseAgentEvent(JSON.stringify(event)), event);
  }
});

test('bad payloads are refused with a precise reason', () => {
  assert.throws(() => parseReportedState('{'), { code: 'MESSAGE_NOT_JSON' });
  assert.throws(() => parseReportedState('[]'), { code: 'MESSAGE_INVALID' });
  const badStatus = { ...reported, programs: [{ ...reported.programs[0], status: 'RUNNING' }] };
  assert.throws(
    () => parseReportedState(JSON.stringify(badStatus)),
    /programs\[0\]\.status: expected one of/,
  );
  for (const [maps, path] of [
    [{ blocklist_v4: -1 }, 'maps.blocklist_v4'],
    [{ blocklist_v4: 65_537 }, 'maps.blocklist_v4'],
    [{ blocklist_v4: '2' }, 'maps.blocklist_v4'],
    [{ 'bad name': 1 }, 'maps.bad name'],
    [[1], 'maps'],
  ] as const) {
    const bad = { ...reported, programs: [{ ...reported.programs[0], maps }] };
    assert.throws(
      () => parseReportedState(JSON.stringify(bad)),
      new RegExp(`programs\\[0\\]\\.${path}: expected`),
    );
  }
  assert.throws(() => parseAgentEvent(JSON.stringify({ time: 't', state: 'DONE' })), /event state/);
  assert.throws(() => parsePresence('maybe'), { code: 'MESSAGE_INVALID' });
  assert.throws(() => parseReportedState('x'.repeat(300 * 1024)), { code: 'MESSAGE_TOO_LARGE' });
});

test('fuzzed payloads raise only ProtocolError', () => {
  const parsers = [parseReportedState, parseAgentEvent, parsePresence, parseTelemetry];
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.jsonValue().map((v) => JSON.stringify({ ...reported, programs: [v] })),
      ),
      fc.nat(3),
      (payload, which) => {
        try {
          parsers[which]!(payload);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      },
    ),
    { numRuns: fuzzRuns() },
  );
});
