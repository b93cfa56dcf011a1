import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeHost } from '@bpfleet/sdk/bpf';
import { hostFingerprint } from './host-fingerprint.js';

test('the fingerprint follows the kernel release, capabilities and BTF source of the real probe', () => {
  const host = probeHost();
  const same = hostFingerprint(host);
  assert.equal(hostFingerprint({ ...host, supportsHelper: host.supportsHelper }), same);
  assert.notEqual(hostFingerprint({ ...host, kernelRelease: `${host.kernelRelease}+1` }), same);
  assert.notEqual(hostFingerprint({ ...host, capabilities: host.capabilities.slice(1) }), same);
  assert.notEqual(hostFingerprint({ ...host, btf: !host.btf }), same);
  assert.equal(
    hostFingerprint({ ...host, capabilities: [...host.capabilities].reverse() }),
    same,
    'order does not matter',
  );
});
