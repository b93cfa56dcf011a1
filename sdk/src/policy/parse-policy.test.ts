import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parsePolicy, toPolicy } from './parse-policy.js';
import type { Policy } from './policy.js';
import { PolicyFieldError } from './policy-error.js';

const yaml = `
apiVersion: bpfleet/v1
kind: Policy
serial: 7
expires: 2030-01-01T00:00:00Z
target: { group: gateways }
fleet: home
programs:
  - id: fw
    package: acme/xdp-firewall
    version: ^1.2.0
    attach: { interface: wan0, mode: native }
    config: { max_pps: 1000, block: [22, 23], strict: true }
  - id: count
    package: acme/counter
    channel: stable
`;

function expectError(fn: () => unknown, code: string, path: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PolicyFieldError, `not a PolicyFieldError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.path, path, err.message);
    return true;
  });
}

function base(): Record<string, unknown> {
  return {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: 1,
    expires: '2030-01-01T00:00:00Z',
    target: { device: 'dev-1' },
    fleet: 'home',
    programs: [{ id: 'a', package: 'ns/p', version: '1.0.0' }],
  };
}

test('parses YAML and JSON to the same policy', () => {
  const fromYaml = parsePolicy(yaml);
  assert.equal(fromYaml.serial, 7);
  assert.deepEqual(fromYaml.target, { group: 'gateways' });
  assert.deepEqual(fromYaml.programs[0]?.config, { max_pps: 1000, block: [22, 23], strict: true });
  assert.equal(fromYaml.programs[1]?.channel, 'stable');
  assert.deepEqual(parsePolicy(JSON.stringify(fromYaml)), fromYaml);
});

test('rejects unknown fields with their path', () => {
  expectError(() => toPolicy({ ...base(), extra: 1 }), 'UNKNOWN_FIELD', 'extra');
  const doc = base();
  doc.programs = [{ id: 'a', package: 'ns/p', version: '1.0.0', attach: { ifname: 'eth0' } }];
  expectError(() => toPolicy(doc), 'UNKNOWN_FIELD', 'programs[0].attach.ifname');
});

test('names the field of every schema violation', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ apiVersion: 'bpfleet/v2' }, 'UNSUPPORTED_API_VERSION', 'apiVersion'],
    [{ serial: 1.5 }, 'INVALID_TYPE', 'serial'],
    [{ serial: -1 }, 'INVALID_TYPE', 'serial'],
    [{ expires: 'tomorrow' }, 'INVALID_VALUE', 'expires'],
    [{ target: { device: 'a', group: 'b' } }, 'INVALID_TARGET', 'target'],
    [{ target: { device: 'a/b' } }, 'INVALID_VALUE', 'target.device'],
    [{ fleet: '+' }, 'INVALID_VALUE', 'fleet'],
    [{ fleet: undefined }, 'MISSING_FIELD', 'fleet'],
    [{ programs: {} }, 'INVALID_TYPE', 'programs'],
    [{ programs: [{ id: 'a', package: 'ns/p' }] }, 'VERSION_OR_CHANNEL', 'programs[0]'],
    [
      { programs: [{ id: 'a', package: 'ns/p', version: '1', channel: 's' }] },
      'VERSION_OR_CHANNEL',
      'programs[0]',
    ],
    [
      { programs: [{ id: 'a', package: 'ns/p', version: 'latest!' }] },
      'INVALID_VALUE',
      'programs[0].version',
    ],
    [{ programs: [{ id: 'a', package: 'p', version: '1.0.0' }] }, 'INVALID_VALUE', 'programs[0].package'],
    [{ programs: [{ id: '../x', package: 'ns/p', version: '1.0.0' }] }, 'INVALID_VALUE', 'programs[0].id'],
    [
      {
        programs: [
          { id: 'a', package: 'ns/p', version: '1.0.0' },
          { id: 'a', package: 'ns/q', version: '1.0.0' },
        ],
      },
      'DUPLICATE_ID',
      'programs[1].id',
    ],
    [
      { programs: [{ id: 'a', package: 'ns/p', version: '1', attach: { direction: 'up' } }] },
      'INVALID_VALUE',
      'programs[0].attach.direction',
    ],
    [
      { programs: [{ id: 'a', package: 'ns/p', version: '1', attach: { cgroup: '/a/../b' } }] },
      'INVALID_VALUE',
      'programs[0].attach.cgroup',
    ],
    [
      { programs: [{ id: 'a', package: 'ns/p', version: '1', config: { x: { y: 1 } } }] },
      'INVALID_TYPE',
      'programs[0].config.x',
    ],
    [
      { programs: [{ id: 'a', package: 'ns/p', version: '1', config: { 'bad-name': 1 } }] },
      'INVALID_VALUE',
      'programs[0].config.bad-name',
    ],
  ];
  for (const [patch, code, path] of cases) expectError(() => toPolicy({ ...base(), ...patch }), code, path);
});

test('programs carry map entries in their layout JSON form; each bad one names its exact field', () => {
  const doc = base();
  const maps = {
    blocklist_v4: [
      { key: { prefixlen: 24, addr: '198.51.100.0' }, value: 1 },
      { key: { prefixlen: 32, addr: '203.0.113.7' }, value: 1 },
    ],
    blocklist_v6: [],
  };
  doc.programs = [{ id: 'a', package: 'ns/p', version: '1', maps }];
  assert.deepEqual(toPolicy(doc).programs[0]?.maps, maps);
  const withMaps = (m: unknown) => ({
    ...base(),
    programs: [{ id: 'a', package: 'ns/p', version: '1', maps: m }],
  });
  const entry = { key: { prefixlen: 24, addr: '198.51.100.0' }, value: 1 };
  const cases: Array<[unknown, string, string]> = [
    [[], 'INVALID_TYPE', 'programs[0].maps'],
    [{ 'bad-name': [] }, 'INVALID_VALUE', 'programs[0].maps.bad-name'],
    [{ m: {} }, 'INVALID_TYPE', 'programs[0].maps.m'],
    [{ m: [entry, 7] }, 'INVALID_TYPE', 'programs[0].maps.m[1]'],
    [{ m: [{ key: 1 }] }, 'MISSING_FIELD', 'programs[0].maps.m[0].value'],
    [{ m: [{ ...entry, extra: 1 }] }, 'UNKNOWN_FIELD', 'programs[0].maps.m[0].extra'],
    [
      { m: [{ key: { prefixlen: 24, addr: null }, value: 1 }] },
      'INVALID_TYPE',
      'programs[0].maps.m[0].key.addr',
    ],
    [
      { m: [{ key: { prefixlen: 24, addr: [1] }, value: 1 }] },
      'INVALID_TYPE',
      'programs[0].maps.m[0].key.addr',
    ],
    [{ m: [{ key: {}, value: 1 }] }, 'EMPTY', 'programs[0].maps.m[0].key'],
    [{ m: [{ key: { __proto__x: 1 }, value: 1 }] }, 'INVALID_VALUE', 'programs[0].maps.m[0].key.__proto__x'],
    [{ m: [{ key: 'x'.repeat(2049), value: 1 }] }, 'TOO_LONG', 'programs[0].maps.m[0].key'],
    [{ m: [{ key: 1, value: Number.NaN }] }, 'INVALID_TYPE', 'programs[0].maps.m[0].value'],
    [{ m: new Array(65_537).fill(entry) }, 'TOO_MANY', 'programs[0].maps.m'],
  ];
  for (const [m, code, path] of cases) expectError(() => toPolicy(withMaps(m)), code, path);
});

test('the entries of all maps of a policy are bounded together', () => {
  const full = new Array(65_536).fill({ key: 1, value: 1 });
  const program = (id: string, n: number) => ({
    id,
    package: 'ns/p',
    version: '1',
    maps: Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, full])),
  });
  const doc = { ...base(), programs: [program('a', 3), program('b', 1)] };
  assert.equal(toPolicy(doc).programs.length, 2);
  expectError(
    () => toPolicy({ ...doc, programs: [program('a', 3), program('b', 2)] }),
    'TOO_MANY',
    'programs[1].maps.m1',
  );
});

test('reports text that is neither YAML nor JSON', () => {
  expectError(() => parsePolicy('{ "a": '), 'PARSE_FAILED', '');
  expectError(() => parsePolicy('a: 1\na: 2\n'), 'PARSE_FAILED', '');
  expectError(() => parsePolicy('- 1\n'), 'INVALID_TYPE', '');
});

test('every valid policy survives a JSON round trip unchanged', () => {
  const name = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/);
  const program = fc.record({
    id: name,
    package: fc.tuple(name, name).map(([a, b]) => `${a}/${b}`),
    version: fc.constantFrom('1.0.0', '^1.2.3', '>=2 <3', '~0.4'),
    config: fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), fc.oneof(fc.integer(), fc.boolean())),
  });
  const policy = fc.record({
    apiVersion: fc.constant('bpfleet/v1' as const),
    kind: fc.constant('Policy' as const),
    serial: fc.nat(),
    expires: fc.constant('2031-02-03T04:05:06.789Z'),
    target: fc.oneof(
      name.map((device) => ({ device })),
      name.map((group) => ({ group })),
    ),
    fleet: name,
    programs: fc.uniqueArray(program, { selector: (p) => p.id, maxLength: 4 }),
  });
  fc.assert(
    fc.property(policy, (p: Policy) => {
      assert.deepEqual(parsePolicy(JSON.stringify(p)), JSON.parse(JSON.stringify(p)));
    }),
  );
});

test('a config value of -0 reads back as 0, so the signed JSON round-trips exactly', () => {
  const doc = base();
  const programs = doc.programs as Array<Record<string, unknown>>;
  programs[0] = { ...programs[0], config: { offset: -0 } };
  const policy = toPolicy(doc);
  assert.ok(Object.is(policy.programs[0]?.config?.offset, 0));
  assert.deepEqual(parsePolicy(JSON.stringify(policy)), policy);
});
