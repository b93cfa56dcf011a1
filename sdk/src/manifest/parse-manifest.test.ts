import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ManifestError } from '../errors.js';
import { exampleManifest, exampleManifestJson } from './example-manifest.js';
import { isGplCompatible } from './license.js';
import { isValidPackageName, manifestDigest, packageId, splitPackageName } from './package-name.js';
import { parseManifest } from './parse-manifest.js';

const FIXTURE = new URL('../../src/manifest/testdata/example-manifest.json', import.meta.url);

/** The example's JSON with the value at a dotted path (`programs.1.attach.interface`) set, or deleted when undefined. */
function variant(path: string, value: unknown): string {
  const root: unknown = JSON.parse(exampleManifestJson());
  const keys = path.split('.');
  let node = root as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys[keys.length - 1] ?? '';
  if (value === undefined) delete node[last];
  else node[last] = value;
  return JSON.stringify(root);
}

const example = exampleManifest();

function expectError(input: unknown, code: string, path: string, options = {}): ManifestError {
  try {
    parseManifest(input, options);
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.path, path, err.message);
    return err;
  }
  assert.fail(`expected ${code} at ${path}`);
}

test('the fixture file, the exported example and the parsed form agree', () => {
  const bytes = readFileSync(FIXTURE);
  assert.deepEqual(parseManifest(bytes), exampleManifest());
  assert.deepEqual(parseManifest(exampleManifestJson()), exampleManifest());
  assert.deepEqual(parseManifest(exampleManifest()), exampleManifest());
  assert.equal(packageId(exampleManifest()), 'acme/xdp-firewall@1.2.0');
  assert.match(manifestDigest(bytes), /^sha256:[0-9a-f]{64}$/);
});

test('a minimal manifest parses', () => {
  const m = parseManifest({
    name: 'a/b',
    version: '0.0.1',
    license: 'GPL',
    programs: [{ name: 'f' }],
    requires: { arches: ['x86'] },
  });
  assert.deepEqual(m.programs, [{ name: 'f' }]);
  assert.equal(m.config, undefined);
});

test('values are normalised to their canonical form', () => {
  const m = parseManifest(
    JSON.stringify({
      ...example,
      config: {
        ...example.config,
        byte_budget: { type: 'u64', default: '12' },
        gateway6: { type: 'ipv6', default: '2001:DB8:0:0:0:0:0:1' },
        router_mac: { type: 'mac', default: '02:AB:00:00:00:01' },
      },
    }),
  );
  assert.equal(m.config?.byte_budget?.default, 12);
  assert.equal(m.config?.gateway6?.default, '2001:db8::1');
  assert.equal(m.config?.router_mac?.default, '02:ab:00:00:00:01');
});

test('each bad-input class has its own code and names the field', () => {
  expectError('{"name":', 'INVALID_JSON', '');
  expectError(new Uint8Array([0xff, 0xfe, 0x7b]), 'INVALID_JSON', '');
  expectError(`${exampleManifestJson()}${' '.repeat(64 * 1024)}`, 'TOO_LARGE', '');
  expectError([], 'FIELD_TYPE', '');
  expectError(variant('version', undefined), 'MISSING_FIELD', 'version');
  expectError(variant('extra', 1), 'UNKNOWN_FIELD', 'extra');
  expectError(variant('programs.1.attach.ifname', 'x'), 'UNKNOWN_FIELD', 'programs[1].attach.ifname');
  expectError(variant('programs.1.attach.interface', 7), 'FIELD_TYPE', 'programs[1].attach.interface');
  expectError(variant('programs.0.attach.direction', 'up'), 'INVALID_VALUE', 'programs[0].attach.direction');
  expectError(variant('name', 'Acme/fw'), 'INVALID_NAME', 'name');
  expectError(variant('name', `a/${'b'.repeat(65)}`), 'INVALID_NAME', 'name');
  expectError(variant('programs.0.name', '1abc'), 'INVALID_NAME', 'programs[0].name');
  expectError(variant('config.__proto__x', example.config?.enabled), 'INVALID_NAME', 'config.__proto__x');
  expectError(
    exampleManifestJson().replace('"enabled":', '"__proto__":'),
    'INVALID_NAME',
    'config.__proto__',
  );
  expectError(variant('version', 'v1.2.0'), 'INVALID_VERSION', 'version');
  expectError(variant('requires.kernel', '5'), 'INVALID_VERSION', 'requires.kernel');
  expectError(variant('license', ' GPL'), 'INVALID_LICENSE', 'license');
  expectError(variant('license', 'MIT'), 'LICENSE_NOT_GPL_COMPATIBLE', 'license', { gplOnlyHelpers: true });
  assert.equal(parseManifest(variant('license', 'MIT')).license, 'MIT');
  expectError(variant('config.max_pps.default', 0), 'OUT_OF_RANGE', 'config.max_pps.default');
  expectError(variant('config.max_pps.max', 2 ** 32), 'OUT_OF_RANGE', 'config.max_pps.max');
  expectError(variant('config.max_pps.min', 20000000), 'OUT_OF_RANGE', 'config.max_pps.min');
  expectError(variant('config.byte_budget.default', 2 ** 60), 'FIELD_TYPE', 'config.byte_budget.default');
  expectError(variant('config.gateway.default', '10.0.0.01'), 'INVALID_VALUE', 'config.gateway.default');
  expectError(variant('config.secret.default', 'abc'), 'INVALID_VALUE', 'config.secret.default');
  expectError(variant('config.secret.size', undefined), 'MISSING_FIELD', 'config.secret.size');
  expectError(variant('config.enabled.size', 1), 'FIELD_NOT_ALLOWED', 'config.enabled.size');
  expectError(variant('config.enabled.min', 0), 'FIELD_NOT_ALLOWED', 'config.enabled.min');
  expectError(
    variant('programs', [...example.programs, { name: 'xdp_firewall' }]),
    'DUPLICATE',
    'programs[2].name',
  );
  expectError(variant('requires.arches', ['x86', 'arm64', 'x86']), 'DUPLICATE', 'requires.arches[2]');
  expectError(
    variant('maps.verdicts.metrics.1.name', example.maps?.verdicts?.metrics?.[0]?.name),
    'DUPLICATE',
    'maps.verdicts.metrics[1].name',
  );
  expectError(variant('programs', []), 'EMPTY', 'programs');
  expectError(variant('requires.arches', []), 'EMPTY', 'requires.arches');
  expectError(
    variant(
      'programs',
      Array.from({ length: 65 }, (_, i) => ({ name: `p${i}` })),
    ),
    'TOO_MANY',
    'programs',
  );
  expectError(variant('description', 'x'.repeat(513)), 'TOO_LONG', 'description');
  expectError(variant('requires.programTypes', ['xpd']), 'INVALID_VALUE', 'requires.programTypes[0]');
  expectError(
    variant('maps.verdicts.metrics.0.value', 'drops'),
    'UNKNOWN_REFERENCE',
    'maps.verdicts.metrics[0].value',
  );
  expectError(
    variant('maps.verdicts.metrics.0.labels.ifindex', 'port'),
    'UNKNOWN_REFERENCE',
    'maps.verdicts.metrics[0].labels.ifindex',
  );
  expectError(variant('maps.verdicts.layout', undefined), 'MISSING_FIELD', 'maps.verdicts.layout');
  expectError(
    variant('maps.verdicts.metrics.0.value', undefined),
    'MISSING_FIELD',
    'maps.verdicts.metrics[0].value',
  );
  expectError(variant('maps.blocklist.layout.key', 'u128'), 'INVALID_VALUE', 'maps.blocklist.layout.key');
  expectError(
    variant('maps.blocklist.layout.key', { type: 'bytes', size: 0 }),
    'OUT_OF_RANGE',
    'maps.blocklist.layout.key.size',
  );
});

test('error messages start with their context and say what was expected', () => {
  const err = expectError(
    variant('programs.1.attach.interface', 7),
    'FIELD_TYPE',
    'programs[1].attach.interface',
  );
  assert.equal(err.message, 'manifest programs[1].attach.interface: expected a string, got 7');
});

test('licenses follow the kernel list exactly', () => {
  for (const l of [
    'GPL',
    'GPL v2',
    'Dual BSD/GPL',
    'Dual MIT/GPL',
    'Dual MPL/GPL',
    'GPL and additional rights',
  ]) {
    assert.ok(isGplCompatible(l), l);
  }
  // Refused by the kernel for GPL-only helpers (checked on 6.18), whatever SPDX says.
  for (const l of ['GPL-2.0-only', 'GPL-2.0-or-later', 'MIT', 'gpl', 'Dual BSD/GPL '])
    assert.ok(!isGplCompatible(l), l);
});

test('package names split and validate', () => {
  assert.deepEqual(splitPackageName('acme/xdp-fw'), { namespace: 'acme', name: 'xdp-fw' });
  for (const bad of ['acme', 'a/b/c', '/b', 'a/', 'A/b', 'a/-b', 'a/b_c', `${'a'.repeat(65)}/b`]) {
    assert.ok(!isValidPackageName(bad), bad);
    assert.throws(() => splitPackageName(bad), { code: 'INVALID_NAME' });
  }
  assert.ok(isValidPackageName(`${'a'.repeat(64)}/${'b'.repeat(64)}`));
});
