// The root chain: thresholds of the old and the new root keys, skipped versions, rollbacks, expiry, strict shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cosignRoot, signRoot, verifyFirstRoot, verifyNextRoot } from './root-chain.js';
import { parseRootDocument, type RootDocument } from './root-document.js';
import { makeKey, NOW, type TestKey, trustErrorOf } from './trust-fixtures.js';

const [r1, r2, r3, r4] = [makeKey(), makeKey(), makeKey(), makeKey()];
const [registry, operator, publisher, publisher2] = [makeKey(), makeKey(), makeKey(), makeKey()];

function rootOf(
  version: number,
  rootKeys: TestKey[],
  threshold: number,
  over: Partial<RootDocument> = {},
): RootDocument {
  return {
    schema: 'bpfleet.root/v1',
    version,
    expires: '2027-01-01T00:00:00Z',
    roles: {
      root: { keys: rootKeys.map((k) => k.trusted), threshold },
      registry: { keys: [registry.trusted] },
      operators: { keys: [operator.trusted], threshold: 1 },
      edge: { keys: [] },
      publishers: { acme: { keys: [(version === 1 ? publisher : publisher2).trusted] } },
    },
    ...over,
  };
}
const sign = (root: RootDocument, keys: TestKey[]) =>
  signRoot(
    root,
    keys.map((k) => k.signing),
  );

const v1 = rootOf(1, [r1, r2, r3], 2);

describe('root chain', () => {
  it('accepts v1 signed by a threshold of its own keys, and v2 by thresholds of v1 and of v2', async () => {
    assert.deepEqual(await verifyFirstRoot(await sign(v1, [r1, r3]), NOW), v1);
    // v2 rotates r1 out and r4 in: r2+r3 satisfy v1 (2 of 3) and v2 (2 of r2, r3, r4).
    const v2 = rootOf(2, [r2, r3, r4], 2);
    const bundle = await cosignRoot(await sign(v2, [r2]), r3.signing);
    const got = await verifyNextRoot(v1, bundle, NOW);
    assert.deepEqual(got.roles.publishers.acme?.keys, [publisher2.trusted]);
  });

  it('refuses a next root without a threshold of the old keys, or of its own (THRESHOLD_NOT_MET)', async () => {
    // Only r4 (new) and r2: v1 has one of them.
    const v2 = rootOf(2, [r2, r4], 2);
    const fromNew = await verifyNextRoot(v1, await sign(v2, [r2, r4]), NOW).catch((e: unknown) => e);
    assert.equal((fromNew as { code?: string }).code, 'THRESHOLD_NOT_MET');
    assert.match(String(fromNew), /version 1's root keys.*have 1, need 2/);
    // r1+r2 satisfy v1, but v2's own root keys are r3+r4 (2 of 2): its own threshold is not met.
    const v2b = rootOf(2, [r3, r4], 2);
    const err = await trustErrorOf(async () => verifyNextRoot(v1, await sign(v2b, [r1, r2, r3]), NOW));
    assert.equal(err.code, 'THRESHOLD_NOT_MET');
    assert.match(err.message, /its own root keys/);
  });

  it('refuses a skipped version and a rollback, with their codes', async () => {
    const v3 = rootOf(3, [r1, r2, r3], 2);
    assert.equal(
      (await trustErrorOf(async () => verifyNextRoot(v1, await sign(v3, [r1, r2]), NOW))).code,
      'ROOT_VERSION_SKIPPED',
    );
    const v2 = rootOf(2, [r1, r2, r3], 2);
    assert.equal(
      (await trustErrorOf(async () => verifyNextRoot(v2, await sign(v1, [r1, r2]), NOW))).code,
      'ROOT_ROLLBACK',
    );
    assert.equal(
      (await trustErrorOf(async () => verifyNextRoot(v2, await sign(v2, [r1, r2]), NOW))).code,
      'ROOT_ROLLBACK',
    );
    assert.equal(
      (await trustErrorOf(async () => verifyFirstRoot(await sign(v2, [r1, r2]), NOW))).code,
      'ROOT_VERSION_SKIPPED',
    );
  });

  it('refuses an expired final root, accepts it as an intermediate one', async () => {
    const v2 = rootOf(2, [r1, r2, r3], 2, { expires: '2026-02-01T00:00:00Z' });
    const bundle = await sign(v2, [r1, r2]);
    assert.equal((await trustErrorOf(() => verifyNextRoot(v1, bundle, NOW))).code, 'ROOT_EXPIRED');
    assert.equal((await verifyNextRoot(v1, bundle, NOW, false)).version, 2);
  });

  it('parses strictly', () => {
    const bad = (mutate: (r: Record<string, unknown>) => void) => {
      const raw = structuredClone(v1) as unknown as Record<string, unknown>;
      mutate(raw);
      try {
        parseRootDocument(raw);
      } catch (err) {
        return (err as { code: string }).code;
      }
      return 'accepted';
    };
    assert.equal(
      bad(() => {}),
      'accepted',
    );
    assert.equal(
      bad((r) => Object.assign(r, { extra: 1 })),
      'ROOT_INVALID',
    );
    assert.equal(
      bad((r) => ((r.roles as { root: { threshold: number } }).root.threshold = 4)),
      'ROOT_INVALID',
    );
    assert.equal(
      bad((r) => ((r.roles as { registry: { keys: unknown[] } }).registry.keys = [])),
      'ROOT_INVALID',
    );
    assert.equal(
      bad((r) => {
        const role = (r.roles as { root: { keys: unknown[] } }).root;
        role.keys.push(role.keys[0]);
      }),
      'ROOT_INVALID',
    );
    assert.equal(
      bad((r) => (r.version = 0)),
      'ROOT_INVALID',
    );
  });
});
