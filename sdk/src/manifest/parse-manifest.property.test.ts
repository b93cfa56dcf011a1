import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManifestError } from '../errors.js';
import { fuzzRuns } from '../testing/reliability-runs.js';
import { exampleManifestJson } from './example-manifest.js';
import { parseManifest } from './parse-manifest.js';

const RUNS = fuzzRuns();

/** Parses, and lets nothing but a ManifestError escape; a success must be a fixed point of parsing. */
function parsesOrFailsTyped(input: unknown): void {
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(input);
  } catch (err) {
    if (err instanceof ManifestError) {
      assert.match(err.code, /^[A-Z_]+$/);
      assert.ok(err.message.startsWith('manifest'));
      return;
    }
    throw err;
  }
  assert.deepEqual(parseManifest(JSON.stringify(parsed)), parsed);
}

type Path = Array<string | number>;

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

const base: unknown = JSON.parse(exampleManifestJson());
const allPaths = pathsOf(base).filter((p) => p.length > 0);

type Mutation =
  | { kind: 'set'; value: unknown }
  | { kind: 'delete' }
  | { kind: 'add'; key: string; value: unknown };

function mutate(path: Path, mutation: Mutation): unknown {
  const root = structuredClone(base) as Record<string | number, unknown>;
  let node = root;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] ?? '';
  if (mutation.kind === 'set') node[last] = mutation.value;
  else if (mutation.kind === 'delete') delete node[last];
  else {
    const target = node[last];
    if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
      (target as Record<string, unknown>)[mutation.key] = mutation.value;
    }
  }
  return root;
}

const interesting = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    0,
    -1,
    2 ** 53,
    1e308,
    '',
    'x'.repeat(600),
    '18446744073709551616',
    '::',
    'GPL',
    'bytes',
    'u64',
  ),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), value: interesting }),
  fc.constant({ kind: 'delete' as const }),
  fc.record({ kind: fc.constant('add' as const), key: fc.string({ maxLength: 12 }), value: interesting }),
);

test('random JSON values give a manifest or a ManifestError, nothing else', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), parsesOrFailsTyped), { numRuns: RUNS });
});

test('random text and bytes give a ManifestError, nothing else', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })),
      parsesOrFailsTyped,
    ),
    { numRuns: RUNS },
  );
});

test('mutated valid manifests give a manifest or a ManifestError naming a field', () => {
  fc.assert(
    fc.property(fc.constantFrom(...allPaths), mutation, (path, m) => parsesOrFailsTyped(mutate(path, m))),
    { numRuns: RUNS },
  );
});

test('byte-flipped manifest text gives a manifest or a ManifestError', () => {
  const text = Buffer.from(exampleManifestJson());
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(text.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (edits) => {
        const bytes = Buffer.from(text);
        for (const [at, value] of edits) bytes[at] = value;
        parsesOrFailsTyped(bytes);
      },
    ),
    { numRuns: RUNS },
  );
});
