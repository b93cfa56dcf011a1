// The edge's operator threshold (k of n): flag, environment and config file, refused outside 1..n.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadEdgeConfig } from './config.js';
import { USAGE } from './edge-args.js';

const keys = ['--operator-key', 'a.pub', '--operator-key', 'b.pub', '--operator-key', 'c.pub'];

test('--operator-threshold, BPFLEET_EDGE_OPERATOR_THRESHOLD and operatorThreshold set k; 1 by default', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-thp-config-'));
  try {
    assert.equal((await loadEdgeConfig(keys, {})).operatorThreshold, 1);
    assert.equal((await loadEdgeConfig([...keys, '--operator-threshold', '2'], {})).operatorThreshold, 2);
    assert.equal((await loadEdgeConfig(keys, { BPFLEET_EDGE_OPERATOR_THRESHOLD: '3' })).operatorThreshold, 3);
    const file = join(dir, 'edge.json');
    await writeFile(file, JSON.stringify({ operatorKeys: ['a.pub', 'b.pub'], operatorThreshold: 2 }));
    assert.equal((await loadEdgeConfig(['--config', file], {})).operatorThreshold, 2);
    for (const k of ['0', '4', '1.5', 'two']) {
      await assert.rejects(
        loadEdgeConfig([...keys, '--operator-threshold', k], {}),
        /operator threshold: .* is not a count from 1 to the 3 operator key/,
      );
    }
    assert.match(USAGE, /--operator-threshold K/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
