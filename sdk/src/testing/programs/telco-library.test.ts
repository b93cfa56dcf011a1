// The telco programs of bpf-programs/: each builds for every arch with no manifest/code issue and passes its tests.json.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProgramTests } from '../run-program-tests.js';
import { buildLibraryProgram } from './library-fixture.js';

const TELCO = ['connect-guard', 'gtpu-lite', 'dns-observer', 'tcp-rtt', 'apn-tagger', 'int-telemetry'];

describe('telco library', () => {
  for (const name of TELCO) {
    it(`${name}: builds for x86 and arm64 in agreement with its manifest and passes tests.json in the kernel`, async () => {
      const program = await buildLibraryProgram(name);
      assert.deepEqual(program.issues, []);
      assert.deepEqual(program.arches, ['x86', 'arm64']);
      assert.ok(program.tests.length > 0, 'tests.json has tests');
      const outcomes = await runProgramTests(program.objectPath, program.manifest, program.tests);
      const failed = outcomes.filter((o) => !o.ok);
      assert.deepEqual(failed, [], failed.map((o) => `${o.name}: ${o.failures.join('; ')}`).join('\n'));
      assert.equal(outcomes.length, program.tests.length);
    });
  }
});
