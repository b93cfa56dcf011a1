// Trust policy parsing: the happy path and one precise code per defect.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TrustError } from '../errors.js';
import { generateKeyPair } from './keys.js';
import { assertKeyInWindow, keysForNamespace, parseTrustPolicy } from './trust-policy.js';

const a = generateKeyPair();
const b = generateKeyPair();
const keyA = { keyId: a.keyId, publicKeyPem: a.publicKeyPem };

function codeOf(value: unknown): string {
  try {
    parseTrustPolicy(value);
  } catch (err) {
    assert.ok(err instanceof TrustError, String(err));
    assert.match(err.message, /^trust policy/);
    return err.code;
  }
  return 'OK';
}

describe('parseTrustPolicy', () => {
  it('parses namespaces, keys and windows, from a value or JSON text', () => {
    const value = {
      publishers: {
        acme: [{ ...keyA, validFrom: '2026-01-01T00:00:00Z', validUntil: '2027-01-01T00:00:00.5+02:00' }],
        'net-tools': [keyA, { keyId: b.keyId, publicKeyPem: b.publicKeyPem }],
        empty: [],
      },
    };
    assert.deepEqual(parseTrustPolicy(value), value);
    assert.deepEqual(parseTrustPolicy(JSON.stringify(value)), value);
    assert.equal(keysForNamespace(parseTrustPolicy(value), 'net-tools').length, 2);
    assert.deepEqual(keysForNamespace(parseTrustPolicy(value), 'nobody'), []);
  });

  it('does not resolve inherited names such as __proto__ or constructor', () => {
    const policy = parseTrustPolicy('{"publishers":{"acme":[]}}');
    assert.deepEqual(keysForNamespace(policy, 'constructor'), []);
    assert.deepEqual(keysForNamespace(policy, '__proto__'), []);
    assert.equal(codeOf('{"publishers":{"__proto__":[]}}'), 'TRUST_POLICY_NAMESPACE_INVALID');
  });

  it('gives each defect its own code', () => {
    const cases: Array<[unknown, string]> = [
      ['{', 'TRUST_POLICY_INVALID'],
      [null, 'TRUST_POLICY_INVALID'],
      [[], 'TRUST_POLICY_INVALID'],
      [{}, 'TRUST_POLICY_INVALID'],
      [{ publishers: [] }, 'TRUST_POLICY_INVALID'],
      [{ publishers: {}, extra: 1 }, 'TRUST_POLICY_UNKNOWN_FIELD'],
      [{ publishers: { Acme: [] } }, 'TRUST_POLICY_NAMESPACE_INVALID'],
      [{ publishers: { '-acme': [] } }, 'TRUST_POLICY_NAMESPACE_INVALID'],
      [{ publishers: { [`a${'b'.repeat(64)}`]: [] } }, 'TRUST_POLICY_NAMESPACE_INVALID'],
      [{ publishers: { acme: keyA } }, 'TRUST_POLICY_INVALID'],
      [{ publishers: { acme: ['x'] } }, 'TRUST_POLICY_INVALID'],
      [{ publishers: { acme: [{ ...keyA, comment: 'x' }] } }, 'TRUST_POLICY_UNKNOWN_FIELD'],
      [{ publishers: { acme: [{ keyId: a.keyId }] } }, 'TRUST_POLICY_INVALID'],
      [{ publishers: { acme: [{ publicKeyPem: a.publicKeyPem }] } }, 'TRUST_POLICY_INVALID'],
      [{ publishers: { acme: [{ ...keyA, publicKeyPem: 'nope' }] } }, 'TRUST_POLICY_KEY_INVALID'],
      [{ publishers: { acme: [{ ...keyA, publicKeyPem: a.privateKeyPem }] } }, 'TRUST_POLICY_KEY_INVALID'],
      [{ publishers: { acme: [{ ...keyA, keyId: b.keyId }] } }, 'TRUST_POLICY_KEY_ID_MISMATCH'],
      [{ publishers: { acme: [keyA, keyA] } }, 'TRUST_POLICY_DUPLICATE_KEY'],
      [{ publishers: { acme: [{ ...keyA, validFrom: '2026-01-01' }] } }, 'TRUST_POLICY_TIME_INVALID'],
      [{ publishers: { acme: [{ ...keyA, validUntil: 1767225600 }] } }, 'TRUST_POLICY_TIME_INVALID'],
      [
        { publishers: { acme: [{ ...keyA, validUntil: '2026-13-01T00:00:00Z' }] } },
        'TRUST_POLICY_TIME_INVALID',
      ],
      [
        {
          publishers: {
            acme: [{ ...keyA, validFrom: '2026-02-01T00:00:00Z', validUntil: '2026-02-01T00:00:00Z' }],
          },
        },
        'TRUST_POLICY_WINDOW_EMPTY',
      ],
    ];
    for (const [value, code] of cases)
      assert.equal(codeOf(value), code, JSON.stringify(value)?.slice(0, 120));
  });

  it('rejects keys that are not ECDSA P-256', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    for (const [type, options] of [
      ['ec', { namedCurve: 'secp384r1' }],
      ['ed25519', {}],
      ['rsa', { modulusLength: 2048 }],
    ] as const) {
      const { publicKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      assert.equal(
        codeOf({ publishers: { acme: [{ keyId: 'sha256:00', publicKeyPem: pem }] } }),
        'TRUST_POLICY_KEY_UNSUPPORTED',
        type,
      );
    }
  });
});

describe('assertKeyInWindow', () => {
  it('is inclusive at validFrom and exclusive at validUntil', () => {
    const key = { ...keyA, validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-02-01T00:00:00Z' };
    assert.doesNotThrow(() => assertKeyInWindow(key, new Date('2026-01-01T00:00:00Z'), 'x'));
    assert.doesNotThrow(() => assertKeyInWindow(key, new Date('2026-01-31T23:59:59.999Z'), 'x'));
    assert.throws(() => assertKeyInWindow(key, new Date('2025-12-31T23:59:59.999Z'), 'x'), {
      code: 'KEY_NOT_YET_VALID',
    });
    assert.throws(() => assertKeyInWindow(key, new Date('2026-02-01T00:00:00Z'), 'ctx'), {
      code: 'KEY_EXPIRED',
      message:
        /^ctx: key sha256:[0-9a-f]{64} expired at 2026-02-01T00:00:00Z, it is 2026-02-01T00:00:00.000Z$/,
    });
    assert.doesNotThrow(() => assertKeyInWindow(keyA, new Date(0), 'x'));
  });
});
