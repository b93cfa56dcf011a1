// Policy map entries against the manifest: encoded by layout, every policy-managed map present, precise errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseManifest } from '../manifest/index.js';
import { encodePolicyMaps } from './map-entries.js';
import { PolicyFieldError } from './policy-error.js';

const firewall = parseManifest(
  readFileSync(new URL('../../../bpf-programs/xdp-firewall/manifest.json', import.meta.url)),
);

function expectError(fn: () => unknown, code: string, path: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PolicyFieldError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.path, path, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('entries encode by the layout; policy-managed maps the policy leaves out are empty', () => {
  const encoded = encodePolicyMaps(firewall, {
    blocklist_v4: [{ key: { prefixlen: 24, addr: '198.51.100.0' }, value: 1 }],
  });
  assert.deepEqual(Object.keys(encoded).sort(), ['blocklist_v4', 'blocklist_v6']);
  assert.equal(Buffer.from(encoded.blocklist_v4?.[0]?.key ?? []).toString('hex'), '18000000c6336400');
  assert.deepEqual(encoded.blocklist_v4?.[0]?.value, Buffer.from([1]));
  assert.deepEqual(encoded.blocklist_v6, []);
  assert.deepEqual(encodePolicyMaps(firewall, undefined), { blocklist_v4: [], blocklist_v6: [] });
});

test('maps that are not policy-managed, unknown maps, bad fields and repeated keys are refused by path', () => {
  const at = 'programs[0].maps';
  expectError(
    () => encodePolicyMaps(firewall, { verdicts: [] }, at),
    'MAP_NOT_POLICY_MANAGED',
    `${at}.verdicts`,
    /^policy programs\[0\]\.maps\.verdicts: map verdicts of bpfleet\/xdp-firewall@1\.2\.0 is not policy-managed \(policy-managed: blocklist_v4, blocklist_v6\)$/,
  );
  expectError(
    () => encodePolicyMaps(firewall, { blocklist_v4_slash16: [] }, at),
    'MAP_NOT_POLICY_MANAGED',
    `${at}.blocklist_v4_slash16`,
  );
  expectError(() => encodePolicyMaps(firewall, { nope: [] }, at), 'MAP_UNKNOWN', `${at}.nope`);
  const entries = Array.from({ length: 13 }, (_, i) => ({
    key: { prefixlen: 32, addr: `198.51.100.${i}` },
    value: 1,
  }));
  entries[12] = { key: { prefixlen: 32, addr: '198.51.100.300' }, value: 1 };
  expectError(
    () => encodePolicyMaps(firewall, { blocklist_v4: entries }, at),
    'INVALID_VALUE',
    `${at}.blocklist_v4[12].key.addr`,
    /expected a dotted IPv4 address, got "198\.51\.100\.300"/,
  );
  entries[12] = { key: { prefixlen: 32, addr: '198.51.100.3' }, value: 1 };
  expectError(
    () => encodePolicyMaps(firewall, { blocklist_v4: entries }, at),
    'DUPLICATE_KEY',
    `${at}.blocklist_v4[12].key`,
    /the same key as programs\[0\]\.maps\.blocklist_v4\[3\]/,
  );
  expectError(
    () =>
      encodePolicyMaps(
        firewall,
        { blocklist_v6: [{ key: { prefixlen: 64, addr: '2001:db8::', x: 1 }, value: 1 }] },
        at,
      ),
    'UNKNOWN_FIELD',
    `${at}.blocklist_v6[0].key.x`,
  );
  expectError(
    () =>
      encodePolicyMaps(
        firewall,
        { blocklist_v6: [{ key: { prefixlen: 64, addr: '2001:db8::' }, value: 256 }] },
        at,
      ),
    'OUT_OF_RANGE',
    `${at}.blocklist_v6[0].value`,
  );
});
