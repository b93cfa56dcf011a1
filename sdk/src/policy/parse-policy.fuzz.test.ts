// Fuzz: garbage text, random YAML/JSON values and mutated valid policies raise only PolicyError; successes re-parse to themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PolicyError } from '../errors.js';
import { fuzzRuns } from '../testing/reliability-runs.js';
import { parsePolicy, toPolicy } from './parse-policy.js';

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
