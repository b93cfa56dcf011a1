// End to end through the real bpfleet-edge: xdp-firewall 1.2.0 published to it, its blocklist in an operator-signed
// device policy applied with PUT /v1/fleet/policies (the edge's checks, its retained publish), enforced by the
// bpfleet-agent process in a device namespace, then changed in place; bpftool and ping are the observers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { libraryProgram } from '@bpfleet/agent';
import { type Policy, type PolicyMapEntry, readPolicyPayload, signPolicy } from '@bpfleet/sdk/policy';
import { until } from '@bpfleet/sdk/test-kit';
import { type SerializedBundle, toSigningKey } from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import { type EdgeDevice, startEdgeDevice } from './fixtures/edge-device.js';
import { programMapEntries, xdpPrograms } from './fixtures/kernel-state.js';
import type { SignedPackage } from './fixtures/test-packages.js';

let d: EdgeDevice;
let pkg: SignedPackage;

before(async () => {
  d = await startEdgeDevice({ tag: 'e2fm', block: 139, offset: 0 });
  const { object, manifest } = libraryProgram('xdp-firewall');
  manifest.name = 'acme/xdp-firewall';
  pkg = await d.publish(manifest, object);
});

after(async () => {
  await d?.close();
});

const block = (addr: string, prefixlen: number): PolicyMapEntry => ({ key: { prefixlen, addr }, value: 1 });

/** The firewall's blocklist as the kernel holds it: entries of blocklist_v4 of the program on wan. */
function kernelBlocklist(): number | undefined {
  const [id] = xdpPrograms(d.net.deviceNs, d.net.wan);
  return id === undefined ? undefined : programMapEntries(id, 'blocklist_v4')?.length;
}

test('a signed policy applied through the edge API blocklists a source on the device, then unblocks it in place', async () => {
  const apply = (blocklist: PolicyMapEntry[]) =>
    d.apply({ device: d.deviceId }, [
      {
        id: 'fw',
        package: 'acme/xdp-firewall',
        version: pkg.version,
        attach: { interface: d.net.wan },
        maps: { blocklist_v4: blocklist },
      },
    ]);
  d.startAgent();
  const first = await apply([block(d.net.peerAddr, 32), block('203.0.113.0', 24)]);
  assert.equal(first.serial, 1);
  await until(
    () => kernelBlocklist() === 2,
    'the firewall on wan with 2 blocklist entries in the kernel',
    30_000,
    () => [kernelBlocklist(), d.agent()?.logs().slice(-5)],
  );
  const [id] = xdpPrograms(d.net.deviceNs, d.net.wan);
  assert.ok(id !== undefined, 'an XDP program on wan');
  assert.equal((await d.net.ping(3)).received, 0, 'the blocked peer is dropped');

  await apply([block('203.0.113.0', 24)]);
  await until(
    () => kernelBlocklist() === 1,
    'the kernel blocklist down to 1 entry',
    30_000,
    () => [kernelBlocklist()],
  );
  assert.deepEqual(xdpPrograms(d.net.deviceNs, d.net.wan), [id], 'the same program, no reload');
  assert.equal((await d.net.ping(3)).received, 3, 'unblocked');
  const fw = (await d.device()).programs.find((p) => p.id === 'fw');
  assert.equal(fw?.status, 'ATTACHED', 'the edge shows what the device reported');
});

test('the edge refuses a policy whose map entries do not fit the package, and publishes nothing', async () => {
  const before = (await d.edge.fleet.currentPolicy({ device: d.deviceId })).serial;
  await assert.rejects(
    d.apply({ device: d.deviceId }, [
      {
        id: 'fw',
        package: 'acme/xdp-firewall',
        version: pkg.version,
        attach: { interface: d.net.wan },
        maps: { no_such_map: [block('203.0.113.0', 24)] },
      },
    ]),
    /no_such_map/,
  );
  assert.equal((await d.edge.fleet.currentPolicy({ device: d.deviceId })).serial, before);
  assert.equal(kernelBlocklist(), 1, 'the kernel keeps the last accepted entries');
});

/** The signed policy with its map entries replaced and the signature kept: an alteration on the way. */
function withEntries(bundle: unknown, blocklist: PolicyMapEntry[]): unknown {
  const copy = structuredClone(bundle) as { dsseEnvelope: { payload: string } };
  const policy = JSON.parse(Buffer.from(copy.dsseEnvelope.payload, 'base64').toString('utf8')) as Policy;
  for (const p of policy.programs) p.maps = { blocklist_v4: blocklist };
  copy.dsseEnvelope.payload = Buffer.from(JSON.stringify(policy)).toString('base64');
  return copy;
}

/** As an edge that skipped its checks would: stores the bundle for the device, then republishes it at its restart. */
async function serveUnchecked(bundle: unknown): Promise<void> {
  const { policy } = readPolicyPayload(bundle);
  const db = new Database(join(d.edgeDataDir, 'fleet.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(
      `INSERT INTO fleet_policies (target, serial, policy, bundle, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (target) DO UPDATE SET serial = excluded.serial, policy = excluded.policy, bundle = excluded.bundle`,
    ).run(
      `device:${d.deviceId}`,
      policy.serial,
      JSON.stringify(policy),
      JSON.stringify(bundle),
      new Date().toISOString(),
    );
  } finally {
    db.close();
  }
  await d.edge.restart();
}

test('map entries altered after signing: the edge refuses them; served unchecked, the device refuses them too', async () => {
  const { nextSerial: serial } = await d.edge.fleet.currentPolicy({ device: d.deviceId });
  const signed: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial,
    expires: '2099-01-01T00:00:00Z',
    target: { device: d.deviceId },
    fleet: d.fleet,
    programs: [
      {
        id: 'fw',
        package: 'acme/xdp-firewall',
        version: pkg.version,
        attach: { interface: d.net.wan },
        maps: { blocklist_v4: [block('203.0.113.0', 24)] },
      },
    ],
  };
  const forged = withEntries(await signPolicy(signed, toSigningKey(d.operator.privateKeyPem)), [
    block('203.0.113.0', 24),
    block(d.net.peerAddr, 32),
  ]);
  await assert.rejects(
    d.edge.fleet.applyPolicy(forged as SerializedBundle),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SIGNATURE_INVALID', err.message);
      assert.match(err.message, /signature does not verify/);
      return true;
    },
  );
  assert.equal(
    (await d.edge.fleet.currentPolicy({ device: d.deviceId })).serial,
    serial - 1,
    'nothing stored',
  );

  await serveUnchecked(forged);
  let seen: unknown;
  await until(
    async () => {
      const errors = (await d.device()).policyErrors;
      seen = errors;
      return Object.values(errors).some((e) => e.code === 'SIGNATURE_INVALID');
    },
    'the device reports the forged policy refused',
    30_000,
    () => [seen, d.agent()?.logs().slice(-5)],
  );
  assert.equal(kernelBlocklist(), 1, 'the kernel keeps the signed entries');
  assert.equal((await d.net.ping(3)).received, 3, 'the peer is not blocked by the forged entry');
});
