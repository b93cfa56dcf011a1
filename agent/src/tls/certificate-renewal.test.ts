// When the device asks for a new certificate: with less than a third of its lifetime left, judged on the real one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renewalTiming } from './certificate-renewal.js';

const dir = await mkdtemp(join(tmpdir(), 'bpfleet-tls-renewal-'));
after(() => rm(dir, { recursive: true, force: true }));

test('due below a third of the lifetime, not before', async () => {
  const crt = join(dir, 'device.crt');
  // openssl makes the certificate: 30 days from now on (the test reads its dates back, to the second).
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30'],
      ...['-subj', '/CN=tls-cpe', '-keyout', join(dir, 'device.key'), '-out', crt],
    ],
    { stdio: 'ignore' },
  );
  const pem = await readFile(crt, 'utf8');
  const from = Date.parse(new X509Certificate(pem).validFrom);
  const day = 86_400_000;
  assert.equal(renewalTiming(pem, new Date(from + day)).due, false);
  assert.equal(renewalTiming(pem, new Date(from + 19 * day)).due, false);
  const late = renewalTiming(pem, new Date(from + 21 * day));
  assert.equal(late.due, true);
  assert.equal(late.lifetimeMs, 30 * day);
  assert.equal(late.remainingMs, 9 * day);
  assert.equal(renewalTiming(pem, new Date(from + 31 * day)).due, true, 'expired: due');
});
