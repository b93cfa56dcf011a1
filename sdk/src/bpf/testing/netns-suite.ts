// Runs a kernel test file inside its own network namespace: the loader attaches to interfaces of the
// namespace it runs in, so the file re-executes itself under `nsenter --net` and reports the result.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from './fixtures.js';

const ENV = 'BPFLEET_LOADER_NETNS';

/** True inside the namespace (define the tests); false outside (this registered the wrapper test). */
export function insideTestNetns(fileUrl: string, prefix = 'bf-loader'): boolean {
  if (process.env[ENV]) return true;
  const ns = `${prefix}-${process.pid}-main`;
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });
  test(`kernel tests in network namespace (${fileURLToPath(fileUrl).split('/').pop()})`, () => {
    run('ip', ['netns', 'add', ns]);
    run('nsenter', [`--net=/run/netns/${ns}`, 'ip', 'link', 'set', 'lo', 'up']);
    // The runner marks its children with NODE_TEST_CONTEXT; the inner run must report on its own.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawnSync(
      'nsenter',
      [`--net=/run/netns/${ns}`, process.execPath, '--test', '--test-reporter=spec', fileURLToPath(fileUrl)],
      { encoding: 'utf8', env: { ...env, [ENV]: ns }, timeout: 300_000 },
    );
    assert.equal(child.status, 0, `inner tests failed:\n${child.stdout}\n${child.stderr}`);
    assert.match(child.stdout, /ℹ pass [1-9]/, `inner tests did not run:\n${child.stdout}`);
    assert.match(child.stdout, /ℹ fail 0/);
  });
  return false;
}
