import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergePolicies } from './merge-policies.js';
import type { Policy, PolicyProgram, PolicyTarget } from './policy.js';

function policy(target: PolicyTarget, programs: PolicyProgram[]): Policy {
  return {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: 1,
    expires: '2030-01-01T00:00:00Z',
    target,
    fleet: 'f',
    programs,
  };
}

test('device entries override group entries with the same id; the first group wins among groups', () => {
  const device = policy({ device: 'd1' }, [{ id: 'fw', package: 'ns/fw', version: '2.0.0' }]);
  const groupA = policy({ group: 'a' }, [
    { id: 'fw', package: 'ns/fw', version: '1.0.0' },
    { id: 'count', package: 'ns/count', channel: 'stable' },
  ]);
  const groupB = policy({ group: 'b' }, [
    { id: 'count', package: 'ns/count', channel: 'canary' },
    { id: 'trace', package: 'ns/trace', version: '^1' },
  ]);
  const merged = mergePolicies(device, [groupA, undefined, groupB]);
  assert.deepEqual(
    merged.map((p) => [p.id, p.version ?? p.channel, p.source]),
    [
      ['count', 'stable', 'group:a'],
      ['fw', '2.0.0', 'device:d1'],
      ['trace', '^1', 'group:b'],
    ],
  );
  assert.deepEqual(mergePolicies(undefined, []), []);
});

test('map entries travel with their program entry: the device entry replaces the group lists whole', () => {
  const block = (addr: string) => [{ key: { prefixlen: 32, addr }, value: 1 }];
  const group = policy({ group: 'g' }, [
    { id: 'fw', package: 'ns/fw', version: '1', maps: { v4: block('198.51.100.1'), v6: [] } },
  ]);
  const device = policy({ device: 'd' }, [
    { id: 'fw', package: 'ns/fw', version: '1', maps: { v4: block('203.0.113.1') } },
  ]);
  assert.deepEqual(mergePolicies(undefined, [group])[0]?.maps, { v4: block('198.51.100.1'), v6: [] });
  assert.deepEqual(mergePolicies(device, [group])[0]?.maps, { v4: block('203.0.113.1') });
});
