// Property tests: garbage, structurally mutated and byte-mutated bundles never verify and only ever raise TrustError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TrustError } from '../errors.js';
import { fuzzRuns } from '../testing/reliability-runs.js';
import { signDocument, verifyDocument } from './document-signature.js';
import { signPayload } from './key-signer.js';
import { signPackage, verifyPackage } from './package-signature.js';
import { PACKAGE_PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE } from './payload-types.js';
import { makeKey, makeSubject, NOW, policyOf } from './trust-fixtures.js';

const RUNS = fuzzRuns();
const publisher = makeKey();
const subject = makeSubject();
const policy = policyOf({ acme: [publisher] });
const bundle = await signPackage(subject, publisher.signing);
const genuine = await verifyPackage(bundle, subject, policy, NOW);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `value`, the root excluded. */
function pathsOf(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  }
  return [];
}

function mutate(root: Json, path: Array<string | number>, op: 'set' | 'delete', replacement: unknown): void {
  let parent: unknown = root;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[step];
  const last = path[path.length - 1]!;
  const container = parent as Record<string | number, unknown>;
  if (op === 'delete') {
    if (Array.isArray(container)) container.splice(Number(last), 1);
    else delete container[last];
  } else {
    container[last] = replacement;
  }
}

/** The verification either fails with a TrustError or yields exactly the genuine result. */
async function assertRejectsOrGenuine(input: unknown): Promise<void> {
  try {
    const result = await verifyPackage(input, subject, policy, NOW);
    assert.deepEqual(result, genuine);
  } catch (err) {
    if (!(err instanceof TrustError)) throw err;
  }
}

const serialized = JSON.parse(JSON.stringify(bundle)) as Json;
const paths = pathsOf(serialized);

describe('bundle fuzzing', () => {
  it('rejects arbitrary values with a TrustError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.anything(), fc.jsonValue(), fc.string(), fc.uint8Array()),
        async (value) => {
          await assert.rejects(verifyPackage(value, subject, policy, NOW), TrustError);
          await assert.rejects(
            verifyDocument(value, POLICY_PAYLOAD_TYPE, [publisher.trusted], NOW),
            TrustError,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('structural mutations of a genuine bundle fail with a TrustError or change nothing', async () => {
    const mutation = fc.record({
      path: fc.constantFrom(...paths),
      op: fc.constantFrom('set' as const, 'delete' as const),
      value: fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.base64String()),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const copy = structuredClone(serialized);
        for (const { path, op, value } of mutations) {
          try {
            mutate(copy, path, op, value);
          } catch {
            // An earlier mutation removed this path's parent; the remaining ones still apply.
          }
        }
        await assertRejectsOrGenuine(copy);
      }),
      { numRuns: RUNS },
    );
  });

  it('character mutations of the bundle JSON text fail with a TrustError or change nothing', async () => {
    const text = JSON.stringify(bundle);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.nat(text.length - 1),
            char: fc.string({ minLength: 0, maxLength: 2, unit: 'binary' }),
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        async (edits) => {
          let mutated = text;
          for (const { at, char } of edits)
            mutated = `${mutated.slice(0, at)}${char}${mutated.slice(at + 1)}`;
          await assertRejectsOrGenuine(mutated);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary payloads signed by a trusted key never verify as this package', async () => {
    const statementLike = fc.record({
      _type: fc.oneof(fc.constant('https://in-toto.io/Statement/v1'), fc.string()),
      subject: fc.oneof(fc.constant(JSON.parse(JSON.stringify(genuine.statement.subject))), fc.jsonValue()),
      predicateType: fc.oneof(fc.constant('https://bpfleet.dev/package/v1'), fc.string()),
      predicate: fc.oneof(
        fc.jsonValue(),
        fc.constant({ ...genuine.statement.predicate, name: 'acme/other' }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 512 }),
          fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'null')),
          statementLike.map((v) => new TextEncoder().encode(JSON.stringify(v))),
        ),
        async (payload) => {
          const signed = await signPayload(PACKAGE_PAYLOAD_TYPE, Buffer.from(payload), publisher.signing);
          const err = await verifyPackage(signed, subject, policy, NOW).then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(err instanceof TrustError, String(err));
          assert.ok(
            ['STATEMENT_INVALID', 'SUBJECT_MISMATCH', 'DIGEST_MISMATCH', 'MANIFEST_DIGEST_MISMATCH'].includes(
              err.code,
            ),
            err.code,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('documents round-trip for any JSON object', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), async (document) => {
        const signed = await signDocument(POLICY_PAYLOAD_TYPE, document, publisher.signing);
        const result = await verifyDocument(signed, POLICY_PAYLOAD_TYPE, [publisher.trusted], NOW);
        assert.deepEqual(result.document, JSON.parse(JSON.stringify(document)));
      }),
      { numRuns: RUNS },
    );
  });
});
