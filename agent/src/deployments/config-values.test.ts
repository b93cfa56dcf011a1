// Tests: the agent's config values are the library manifests' defaults overlaid with the policy's, as the bytes the
// loader writes; names and values the manifest does not allow are refused naming the variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '@bpfleet/sdk/manifest';
import { configValues } from './attach-targets.js';

const LIBRARY = fileURLToPath(new URL('../../../bpf-programs', import.meta.url));
const bytes = (...values: number[]) => Buffer.from(values);
const manifestOf = (program: string) =>
  parseManifest(JSON.parse(readFileSync(join(LIBRARY, program, 'manifest.json'), 'utf8')));

test('the bool configs of the library encode from their defaults and from a policy', () => {
  const guard = manifestOf('connect-guard');
  assert.deepEqual(configValues(guard, {}).enforce, bytes(1), 'connect-guard enforce defaults to true');
  assert.deepEqual(configValues(guard, { enforce: false }).enforce, bytes(0));
  assert.deepEqual(configValues(manifestOf('gtpu-lite'), {}).downlink_tx, bytes(0));
  assert.deepEqual(configValues(manifestOf('apn-tagger'), {}).set_flow_label, bytes(1));
});

test('integers are in the host byte order, addresses in network order', () => {
  const values = configValues(manifestOf('gtpu-lite'), { n3_address: '198.18.102.9' });
  assert.deepEqual(values.n3_address, bytes(198, 18, 102, 9));
  const port = configValues(manifestOf('dns-observer'), { dns_port: 5353 }).dns_port;
  const expected = Buffer.alloc(2);
  endianness() === 'LE' ? expected.writeUInt16LE(5353) : expected.writeUInt16BE(5353);
  assert.deepEqual(port, expected);
});

test('an unknown variable or a value of the wrong type is refused naming the variable', () => {
  const guard = manifestOf('connect-guard');
  assert.throws(
    () => configValues(guard, { enforced: true }),
    (err: Error & { code?: string }) =>
      err.code === 'CONFIG_UNKNOWN' &&
      /^config enforced: bpfleet\/connect-guard declares no such/.test(err.message),
  );
  assert.throws(
    () => configValues(guard, { enforce: 'true' }),
    (err: Error & { code?: string }) =>
      err.code === 'CONFIG_INVALID' && /^config enforce: .*expected true or false/.test(err.message),
  );
});
