import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceTopic, fleetDeviceFilter, groupDesiredTopic, parseTopic } from './topics.js';

test('builds and parses the topics of the design', () => {
  const t = deviceTopic('carrier', 'cpe-0001', 'reported');
  assert.equal(t, 'bpfleet/v1/carrier/dev/cpe-0001/reported');
  assert.deepEqual(parseTopic(t), { fleet: 'carrier', scope: 'dev', device: 'cpe-0001', kind: 'reported' });
  const g = groupDesiredTopic('carrier', 'gateways');
  assert.deepEqual(parseTopic(g), { fleet: 'carrier', scope: 'grp', group: 'gateways', kind: 'desired' });
  assert.equal(fleetDeviceFilter('carrier', 'events'), 'bpfleet/v1/carrier/dev/+/events');
});

test('refuses names that would change the topic tree', () => {
  for (const bad of ['', 'a/b', '+', '#', 'dev#', 'x'.repeat(129), '.hidden']) {
    assert.throws(() => deviceTopic('f', bad, 'reported'), /device name/);
  }
  assert.throws(() => groupDesiredTopic('f/g', 'x'), /fleet name/);
});

test('parseTopic returns null for foreign or malformed topics', () => {
  for (const t of [
    'bpfleet/v1/f/dev/d',
    'bpfleet/v2/f/dev/d/reported',
    'bpfleet/v1/f/dev/d/unknown',
    'bpfleet/v1/f/grp/g/reported',
    'bpfleet/v1/f/dev/+/reported',
    'other/v1/f/dev/d/reported',
    'bpfleet/v1/f/dev/d/reported/extra',
  ]) {
    assert.equal(parseTopic(t), null, t);
  }
});
