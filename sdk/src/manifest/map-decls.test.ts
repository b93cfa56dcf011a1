// Policy-managed and derived map declarations: what parses, and the field path of each bad declaration.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ManifestError } from '../errors.js';
import { parseManifest } from './parse-manifest.js';

function manifest(maps: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'a/b',
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'f' }],
    requires: { arches: ['x86'] },
    maps,
  };
}

const lpm = { key: { prefixlen: 'u32', addr: 'ipv4' }, value: 'u8' };
const bitmap = { key: 'u32', value: { type: 'bytes', size: 32 } };
const derive = { from: 'block', kind: 'ipv4-slash16-bitmap' };

function expectError(maps: Record<string, unknown>, code: string, path: string): void {
  assert.throws(
    () => parseManifest(manifest(maps)),
    (err: unknown) => {
      assert.ok(err instanceof ManifestError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.path, path, err.message);
      return true;
    },
  );
}

test('a policy-managed map and a map derived from it parse', () => {
  const m = parseManifest(
    manifest({ block: { entries: 'policy', layout: lpm }, bits: { derive, layout: bitmap } }),
  );
  assert.equal(m.maps?.block?.entries, 'policy');
  assert.deepEqual(m.maps?.bits?.derive, derive);
});

test('xdp-firewall declares its blocklists policy-managed and the prefilter derived', () => {
  const text = readFileSync(new URL('../../../bpf-programs/xdp-firewall/manifest.json', import.meta.url));
  const fw = parseManifest(text);
  assert.equal(fw.maps?.blocklist_v4?.entries, 'policy');
  assert.equal(fw.maps?.blocklist_v6?.entries, 'policy');
  assert.deepEqual(fw.maps?.blocklist_v4_slash16?.derive, {
    from: 'blocklist_v4',
    kind: 'ipv4-slash16-bitmap',
  });
});

test('bad declarations name their field', () => {
  expectError({ block: { entries: 'agent', layout: lpm } }, 'INVALID_VALUE', 'maps.block.entries');
  expectError({ block: { entries: 'policy' } }, 'MISSING_FIELD', 'maps.block.layout');
  expectError(
    {
      block: { entries: 'policy', layout: lpm },
      bits: { derive: { ...derive, kind: 'ipv4-slash8' }, layout: bitmap },
    },
    'INVALID_VALUE',
    'maps.bits.derive.kind',
  );
  expectError(
    { block: { layout: lpm }, bits: { derive, layout: bitmap } },
    'NOT_POLICY_MANAGED',
    'maps.bits.derive.from',
  );
  expectError({ bits: { derive, layout: bitmap } }, 'UNKNOWN_REFERENCE', 'maps.bits.derive.from');
  expectError(
    { bits: { derive: { ...derive, from: 'bits' }, layout: bitmap } },
    'INVALID_VALUE',
    'maps.bits.derive.from',
  );
  expectError(
    { block: { entries: 'policy', layout: lpm }, bits: { derive } },
    'MISSING_FIELD',
    'maps.bits.layout',
  );
  expectError(
    { block: { entries: 'policy', layout: lpm }, bits: { derive: { ...derive, extra: 1 }, layout: bitmap } },
    'UNKNOWN_FIELD',
    'maps.bits.derive.extra',
  );
  expectError(
    { block: { entries: 'policy', layout: lpm }, bits: { entries: 'policy', derive, layout: bitmap } },
    'CONFLICT',
    'maps.bits.derive',
  );
  expectError(
    {
      block: { entries: 'policy', layout: { key: { prefixlen: 'u32', addr: 'ipv6' }, value: 'u8' } },
      bits: { derive, layout: bitmap },
    },
    'LAYOUT_MISMATCH',
    'maps.bits.derive.from',
  );
  expectError(
    {
      block: { entries: 'policy', layout: lpm },
      bits: { derive, layout: { key: 'u32', value: { type: 'bytes', size: 16 } } },
    },
    'LAYOUT_MISMATCH',
    'maps.bits.layout',
  );
});
