// Tests: `load: false` needs a description; checkObjectPrograms names every undeclared or missing program.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError } from '../errors.js';
import { exampleManifest } from './example-manifest.js';
import { parseManifest } from './parse-manifest.js';
import { checkObjectPrograms } from './program-set.js';

function withPrograms(programs: unknown[]): unknown {
  return { ...JSON.parse(JSON.stringify(exampleManifest())), programs };
}

test('load: false parses with a description and is refused without one', () => {
  const parsed = parseManifest(
    withPrograms([
      { name: 'h1c_xdp_pass' },
      { name: 'h1c_xdp_drop', load: false, description: 'alternative: drops everything' },
    ]),
  );
  assert.deepEqual(parsed.programs[1], {
    name: 'h1c_xdp_drop',
    load: false,
    description: 'alternative: drops everything',
  });
  assert.throws(
    () => parseManifest(withPrograms([{ name: 'h1c_xdp_pass' }, { name: 'h1c_xdp_drop', load: false }])),
    (err: unknown) =>
      err instanceof ManifestError &&
      err.code === 'DESCRIPTION_REQUIRED' &&
      err.path === 'programs[1].description' &&
      /h1c_xdp_drop has load: false/.test(err.message),
  );
  assert.throws(
    () => parseManifest(withPrograms([{ name: 'h1c_xdp_pass', load: 'no' }])),
    (err: unknown) =>
      err instanceof ManifestError && err.code === 'FIELD_TYPE' && err.path === 'programs[0].load',
  );
});

const manifest = {
  name: 'test/sched',
  version: '1.0.0',
  programs: [
    { name: 'h1c_wake_btf' },
    { name: 'h1c_wake_raw', load: false, description: 'raw_tp fallback for kernels without tp_btf' },
    { name: 'h1c_swch_btf' },
  ],
};

test('the programs to load are the listed ones without load: false, in manifest order', () => {
  const names = checkObjectPrograms(manifest, ['h1c_swch_btf', 'h1c_wake_raw', 'h1c_wake_btf'], 'build x');
  assert.deepEqual(names, ['h1c_wake_btf', 'h1c_swch_btf']);
});

test('programs in the object the manifest does not list are PROGRAM_UNDECLARED, all named, message from where', () => {
  assert.throws(
    () =>
      checkObjectPrograms(
        manifest,
        ['h1c_wake_btf', 'h1c_wake_raw', 'h1c_swch_btf', 'h1c_hidden', 'h1c_also'],
        'deploy fw test/sched@1.0.0',
      ),
    (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.equal(err.code, 'PROGRAM_UNDECLARED');
      assert.match(
        err.message,
        /^deploy fw test\/sched@1\.0\.0: the object holds 2 programs .*: h1c_also, h1c_hidden/,
      );
      return true;
    },
  );
});

test('listed programs absent from the object are PROGRAM_MISSING', () => {
  assert.throws(
    () => checkObjectPrograms(manifest, ['h1c_wake_btf'], 'publish test/sched@1.0.0'),
    (err: unknown) =>
      err instanceof ManifestError &&
      err.code === 'PROGRAM_MISSING' &&
      /^publish test\/sched@1\.0\.0: .*does not have: h1c_wake_raw, h1c_swch_btf$/.test(err.message),
  );
});
