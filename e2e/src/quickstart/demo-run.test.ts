// `npm run demo` works: the compiled entry runs the whole story, exits 0 and leaves nothing behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEMO_PROFILE } from './demo-story.js';
import { networkExists, removeNetwork } from './local-device-network.js';

const MAIN = fileURLToPath(new URL('./demo-main.js', import.meta.url));
let pid: number | undefined;

after(async () => {
  try {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: the normal case.
  }
  removeNetwork(DEMO_PROFILE.network);
  await rm(DEMO_PROFILE.pinRoot, { recursive: true, force: true });
});

test('npm run demo: every step holds and it exits 0', { timeout: 90_000 }, async () => {
  const { code, out } = await new Promise<{ code: number | string; out: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
    pid = child.pid;
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.once('exit', (c, signal) => resolve({ code: c ?? signal ?? -1, out: text }));
  });
  assert.equal(code, 0, out);
  assert.match(out, /the device fetched, verified and attached 1\.0\.0: XDP program \d+ on wan0/);
  assert.match(out, /20 pings sent, 20 counted by 1\.0\.0/);
  const upgrade =
    /(\d+) pings sent during the upgrade, (\d+) answered, counter rose by (\d+): no packet lost/.exec(out);
  assert.ok(upgrade, out);
  assert.equal(upgrade[1], upgrade[2]);
  assert.equal(upgrade[1], upgrade[3]);
  assert.match(out, /refused by the device: DIGEST_MISMATCH: fetch acme\/count@1\.2\.0: digest mismatch/);
  assert.match(out, /ROLLED_BACK: VERIFIER_REJECTED: /);
  assert.match(out, /1\.1\.0 still attached \(program \d+\) and counting/);
  assert.match(out, /demo-device-1 +online +count +acme\/count +1\.1\.0 +ROLLED_BACK/);
  assert.match(out, /the demo passed/);
  assert.equal(networkExists(DEMO_PROFILE.network), false, 'namespaces removed');
  assert.equal(existsSync(DEMO_PROFILE.pinRoot), false, 'pins removed');
});
