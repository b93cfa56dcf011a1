// Device truth (issue #14 "Done when"): the real bpfleet-edge, operator-signed policies through its fleet API, the
// real bpfleet-agent in a device namespace, and bpftool / ip / procfs as the only judges of what runs.
import { after, before, test } from 'node:test';
import { allowListCase } from './allow-list-case.js';
import { driftCase } from './drift-case.js';
import { expiryCase } from './expiry-case.js';
import { removalCase } from './removal-case.js';
import { renameCase } from './rename-case.js';
import { startTruthDevice, type TruthDevice } from './truth-device.js';
import { upgradeCase } from './upgrade-case.js';

let d: TruthDevice;

before(async () => {
  d = await startTruthDevice();
});

after(async () => {
  await d?.close();
});

// One edge and one agent for every case; each case removes what it deployed (an empty policy), even when it fails.
test('a manifest default outside the allow-list is refused with ATTACH_NOT_ALLOWED, shown by the edge', (t) =>
  allowListCase(d, t));

test('drift (link pin deleted, xdp off, link detached, interface re-created) is DRIFTED and repaired in 10 s', (t) =>
  driftCase(d, t));

test('renaming a deployment on XDP keeps a program on the hook at every 1 ms sample, nothing of the old id left', (t) =>
  renameCase(d, t));

test('upgrades that change the program set lose no packet under 5 ms pings', (t) => upgradeCase(d, t));

test('removing a deployment of each attach type leaves no link, program, map, pin or agent fd', (t) =>
  removalCase(d, t));

test('an expired policy is reported POLICY_EXPIRED and what it deployed keeps running', (t) =>
  expiryCase(d, t));
