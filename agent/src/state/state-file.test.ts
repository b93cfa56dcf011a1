import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '@bpfleet/sdk/errors';
import { StateFile } from './state-file.js';

const dir = await mkdtemp(join(tmpdir(), 'bpfleet-agent-state-'));
after(() => rm(dir, { recursive: true, force: true }));

test('loads the initial value, then what was saved, leaving no temp files', async () => {
  const file = new StateFile(join(dir, 'sub', 'state.json'), () => ({ n: 0 }));
  assert.deepEqual(await file.load(), { n: 0 });
  await Promise.all([file.save({ n: 1 }), file.save({ n: 2 })]);
  const loaded = await file.load();
  assert.ok(loaded.n === 1 || loaded.n === 2);
  await file.save({ n: 3 });
  assert.deepEqual(await file.load(), { n: 3 });
  assert.deepEqual(await readdir(join(dir, 'sub')), ['state.json']);
});

test('a corrupt state file is an error naming the file', async () => {
  const path = join(dir, 'bad.json');
  await writeFile(path, '{"n": ');
  await assert.rejects(new StateFile(path, () => ({})).load(), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'STATE_CORRUPT');
    assert.match(err.message, /bad\.json/);
    return true;
  });
});
