// Unit tests: requires.btf is true, false or "core" (the package brings its minimized BTF); nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ManifestError } from '../errors.js';
import { exampleManifest } from './example-manifest.js';
import { parseManifest } from './parse-manifest.js';

const parse = (btf: unknown) => {
  const m = exampleManifest() as unknown as { requires: Record<string, unknown> };
  m.requires.btf = btf;
  return parseManifest(Buffer.from(JSON.stringify(m)));
};

test('requires.btf accepts true, false and "core"', () => {
  assert.equal(parse(true).requires.btf, true);
  assert.equal(parse(false).requires.btf, false);
  assert.equal(parse('core').requires.btf, 'core');
});

test('requires.btf refuses other strings', () => {
  assert.throws(
    () => parse('package'),
    (err: ManifestError) => err.code !== undefined && /requires\.btf/.test(err.message),
  );
});
