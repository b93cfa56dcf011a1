// Fuzz: whatever the registry serves as its index (garbage, unsigned JSON, or a signed document with any
// content), resolving raises only BpfleetError subclasses, and a resolved ref always comes from the document.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { BpfleetError } from '@bpfleet/sdk/errors';
import { fuzzRuns } from '@bpfleet/sdk/testing/reliability-runs';
import { generateKeyPair, INDEX_PAYLOAD_TYPE, signDocument, toSigningKey } from '@bpfleet/sdk/trust';
import fc from 'fast-check';
import { RegistryIndex } from './registry-index.js';

const RUNS = fuzzRuns();
const registry = generateKeyPair();
const signer = toSigningKey(registry.privateKeyPem);
const keys = [{ keyId: registry.keyId, publicKeyPem: registry.publicKeyPem }];
const now = () => new Date('2029-06-01T00:00:00Z');
let body = '';
let status = 200;
const server = createServer((_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
});
let url = '';

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const versionEntry = fc.record(
  {
    digest: fc.oneof(
      hex.map((h) => `sha256:${h}`),
      fc.string(),
    ),
    size: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string()),
    manifestDigest: hex.map((h) => `sha256:${h}`),
    yanked: fc.oneof(fc.boolean(), fc.jsonValue()),
  },
  { requiredKeys: [] },
);
const versionName = fc.oneof(
  fc.constantFrom('1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0'),
  fc.string({ maxLength: 8 }),
);
const entry = fc.oneof(
  fc.record(
    {
      versions: fc.oneof(fc.dictionary(versionName, fc.oneof(versionEntry, fc.jsonValue())), fc.jsonValue()),
      channels: fc.oneof(fc.dictionary(fc.constantFrom('stable', 'canary'), versionName), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
const indexDoc = fc.record(
  {
    schema: fc.oneof(fc.constant('bpfleet.index/v1'), fc.string()),
    serial: fc.oneof(fc.nat(), fc.integer(), fc.double()),
    expires: fc.oneof(fc.constant('2030-01-01T00:00:00Z'), fc.constant('2020-01-01T00:00:00Z'), fc.string()),
    packages: fc.oneof(fc.dictionary(fc.constantFrom('acme/count', 'acme/fw'), entry), fc.jsonValue()),
  },
  { requiredKeys: ['schema', 'serial', 'expires', 'packages'] },
);
const served = fc.oneof(
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => ({ text: JSON.stringify(v) })) },
  { weight: 6, arbitrary: indexDoc.map((doc) => ({ doc })) },
);
const selector = fc.oneof(
  fc.record({ version: fc.oneof(versionName, fc.constantFrom('^1', '*', '>=2.0.0-0')) }),
  fc.record({ channel: fc.constantFrom('stable', 'canary', 'beta') }),
);

test('fuzz: any served index resolves to a listed version or raises only BpfleetError', async () => {
  await fc.assert(
    fc.asyncProperty(
      served,
      fc.constantFrom('acme/count', 'acme/fw', 'other/x'),
      selector,
      fc.constantFrom(200, 200, 200, 404, 500),
      async (input, pkg, sel, code) => {
        body =
          'text' in input
            ? input.text
            : JSON.stringify(await signDocument(INDEX_PAYLOAD_TYPE, input.doc, signer));
        status = code;
        const index = new RegistryIndex({ registryUrl: url, registryKeys: keys, now });
        try {
          const ref = await index.resolve(pkg, sel);
          const listed = JSON.parse(JSON.stringify('doc' in input ? input.doc : {})) as {
            packages: Record<string, { versions: Record<string, { digest: string; size: number }> }>;
          };
          const v = listed.packages[pkg]?.versions[ref.version];
          assert.ok(v, `resolved ${ref.version}, which the index does not list`);
          assert.equal(ref.digest, v.digest);
          assert.equal(ref.size, v.size);
        } catch (err) {
          if (!(err instanceof BpfleetError)) throw err;
          assert.match(err.code, /^[A-Z_]+$/);
        }
      },
    ),
    { numRuns: RUNS },
  );
});
