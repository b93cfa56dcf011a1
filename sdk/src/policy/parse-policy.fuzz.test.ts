// Fuzz: garbage text, random YAML/JSON values and mutated valid policies raise only PolicyError; successes re-parse to themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PolicyError } from '../errors.js';
import { fuzzRuns } from '../testing/reliability-runs.js';
import { parsePolicy, toPolicy } from './parse-policy.js';
import { PolicyFieldError } from './policy-error.js';

const RUNS = fuzzRuns();

const valid = {
  apiVersion: 'bpfleet/v1',
  kind: 'Policy',
  serial: 7,
  expires: '2030-01-01T00:00:00Z',
  target: { group: 'gateways' },
  fleet: 'home',
  programs: [
    {
      id: 'fw',
      package: 'acme/xdp-firewall',
      version: '^1.2.0',
      attach: { interface: 'wan0', mode: 'native' },
      config: { max_pps: 1000, block: [22, 23], strict: true },
      maps: {
        blocklist_v4: [
          { key: { prefixlen: 24, addr: '198.51.100.0' }, value: 1 },
          { key: { prefixlen: 32, addr: '203.0.113.9' }, value: 1 },
        ],
        blocklist_v6: [{ key: { prefixlen: 48, addr: '2001:db8:7::' }, value: 1 }],
        tags: [{ key: 7, value: 'ab01' }],
      },
    },
    { id: 'count', package: 'acme/count', channel: 'stable' },
  ],
};

function parsesOrFailsTyped(run: () => unknown): void {
  let parsed: unknown;
  try {
    parsed = run();
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    assert.match(err.code, /^[A-Z_]+$/);
    assert.ok(err.message.startsWith('policy'), err.message);
    return;
  }
  assert.deepEqual(parsePolicy(JSON.stringify(parsed)), parsed);
}

type Path = Array<string | number>;
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}
const paths = pathsOf(valid);

function replaced(path: Path, replacement: unknown, remove: boolean): unknown {
  const copy = structuredClone(valid) as unknown as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove && Array.isArray(node)) node.splice(Number(last), 1);
  else if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}

test('fuzz: any text raises only PolicyError', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 200 }), fc.json(), fc.stringMatching(/^[a-z:\s{}[\],"'-]{0,80}$/)),
      (text) => parsesOrFailsTyped(() => parsePolicy(text)),
    ),
    { numRuns: RUNS },
  );
});

test('fuzz: any decoded value raises only PolicyError', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => parsesOrFailsTyped(() => toPolicy(value))),
    { numRuns: RUNS },
  );
});

test('fuzz: a valid policy with one field replaced or removed parses or raises only PolicyError', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...paths),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.integer(), fc.double()),
      fc.boolean(),
      fc.boolean(),
      (path, replacement, remove, asText) => {
        const doc = replaced(path, replacement, remove);
        parsesOrFailsTyped(() => (asText ? parsePolicy(JSON.stringify(doc)) : toPolicy(doc)));
      },
    ),
    { numRuns: RUNS },
  );
});

test('fuzz: random maps sections parse to themselves or raise only PolicyError naming a maps path', () => {
  const scalarish = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const part = fc.oneof(
    scalarish,
    fc.dictionary(fc.string({ maxLength: 8 }), scalarish, { maxKeys: 4 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const entry = fc.oneof(
    fc.record({ key: part, value: part }),
    fc.record({ key: part, value: part, extra: part }, { requiredKeys: ['key'] }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const maps = fc.oneof(
    fc.dictionary(fc.stringMatching(/^[A-Za-z_-][A-Za-z0-9_]{0,6}$/), fc.array(entry, { maxLength: 5 }), {
      maxKeys: 3,
    }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  fc.assert(
    fc.property(maps, fc.boolean(), (m, asText) => {
      const doc = structuredClone(valid) as { programs: Array<Record<string, unknown>> };
      (doc.programs[0] as Record<string, unknown>).maps = m;
      try {
        const parsed = asText ? parsePolicy(JSON.stringify(doc)) : toPolicy(doc);
        assert.deepEqual(parsePolicy(JSON.stringify(parsed)), parsed);
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err;
        assert.ok(err instanceof PolicyFieldError && err.path.startsWith('programs[0].maps'), err.message);
      }
    }),
    { numRuns: RUNS },
  );
});
