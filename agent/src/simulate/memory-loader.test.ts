// MemoryLoader: a refused version fails attach and upgrade and leaves what runs unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeploySpec } from '../ports.js';
import { MemoryLoader } from './memory-loader.js';

const spec = (version: string): DeploySpec => ({
  id: 'count',
  pkg: {
    ref: { package: 'acme/count', version, digest: `sha256:${version}`, size: 1 },
    manifestDigest: 'sha256:m',
    manifest: {},
    contents: {},
  },
  attach: { interface: 'wan0' },
  config: {},
  configDigest: 'sha256:c',
});

test('a refused version is not attached and does not replace the running one', async () => {
  const loader = new MemoryLoader(undefined, undefined, { rejectVersions: new Set(['2.0.0']) });
  await assert.rejects(loader.attach(spec('2.0.0')), { code: 'LOAD_FAILED' });
  assert.equal(loader.live.size, 0);
  const running = await loader.attach(spec('1.0.0'));
  await assert.rejects(loader.upgrade(running, spec('2.0.0')), /acme\/count@2\.0\.0: refused/);
  assert.equal(loader.live.get('count')?.version, '1.0.0');
  const restarted = loader.restart();
  await assert.rejects(restarted.upgrade(running, spec('2.0.0')), { code: 'LOAD_FAILED' });
  assert.equal((await restarted.upgrade(running, spec('1.1.0'))).version, '1.1.0');
});
