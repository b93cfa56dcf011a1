import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfleetError, errorMessage, isBpfleetError, ManifestError, VerifierError } from './errors.js';

test('errors carry a code, a context-first message and their cause', () => {
  const cause = new Error('EACCES');
  const err = new ManifestError('FIELD_TYPE', 'programs[0].name', 'expected a string', { cause });
  assert.equal(err.code, 'FIELD_TYPE');
  assert.equal(err.path, 'programs[0].name');
  assert.equal(err.message, 'manifest programs[0].name: expected a string');
  assert.equal(err.cause, cause);
  assert.equal(err.name, 'ManifestError');
  assert.ok(err instanceof BpfleetError);
  assert.ok(isBpfleetError(err));
  assert.deepEqual(err.toJSON(), { code: 'FIELD_TYPE', message: err.message });
});

test('a verifier error keeps the whole log', () => {
  const log = 'line 1\nline 2\ninvalid mem access';
  const err = new VerifierError('xdp_count', 'load xdp_count: verifier rejected: invalid mem access', log);
  assert.equal(err.code, 'VERIFIER_REJECTED');
  assert.equal(err.log, log);
  assert.equal(errorMessage(err), err.message);
  assert.equal(errorMessage('plain'), 'plain');
});
