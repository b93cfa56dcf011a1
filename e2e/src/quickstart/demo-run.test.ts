// `npm run demo` works: the compiled entry runs the whole story, exits 0 and leaves nothing behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
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

/** What the kernel shows while the demo is paused: the XDP program on wan0 and the pinned counter's slot 0. */
interface KernelView {
  program: number | undefined;
  packets: number | undefined;
}

function observeKernel(): KernelView {
  const links = JSON.parse(
    execFileSync('ip', ['-j', '-n', DEMO_PROFILE.network.deviceNs, 'link', 'show', 'dev', 'wan0'], {
      encoding: 'utf8',
    }),
  ) as Array<{ xdp?: { prog?: { id: number } } }>;
  const dump = spawnSync(
    'bpftool',
    ['-j', 'map', 'dump', 'pinned', join(DEMO_PROFILE.pinRoot, 'count', 'maps', 'counts')],
    { encoding: 'utf8' },
  );
  const entries =
    dump.status === 0 ? (JSON.parse(dump.stdout) as Array<{ key: string[]; value: string[] }>) : [];
  const slot0 = entries.find((e) => e.key.every((b) => Number(b) === 0));
  return {
    program: links[0]?.xdp?.prog?.id,
    packets: slot0 ? Number(Buffer.from(slot0.value.map(Number)).readBigUInt64LE(0)) : undefined,
  };
}

// The demo's figures are its own arithmetic; the kernel, read by this test while the demo is stopped (SIGSTOP)
// right after it prints its last figure, is the independent witness.
const LAST_FIGURE =
  /1\.1\.0 still attached \(program (\d+)\) and counting: (\d+) more pings, counter at (\d+)/;

test('npm run demo: every step holds and it exits 0', { timeout: 90_000 }, async () => {
  let seen: KernelView | undefined;
  const { code, out } = await new Promise<{ code: number | string; out: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
    pid = child.pid;
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      if (seen === undefined && LAST_FIGURE.test(text)) {
        child.kill('SIGSTOP');
        try {
          seen = observeKernel();
        } finally {
          child.kill('SIGCONT');
        }
      }
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
  assert.match(out, /refused by the device: DIGEST_MISMATCH: fetch acme\/count@1\.2\.0: digest mismatch/);
  assert.match(out, /ROLLED_BACK: VERIFIER_REJECTED: /);
  const last = LAST_FIGURE.exec(out);
  assert.ok(last, out);
  assert.ok(seen, 'the kernel was read while the demo was paused');
  assert.equal(seen.program, Number(last[1]), 'the program the demo names is the one on wan0');
  // Every ping the demo sent (20, those during the upgrade, the last ones) was counted in the kernel's map.
  const sent = 20 + Number(upgrade[1]) + Number(last[2]);
  assert.equal(seen.packets, sent, 'the pinned counter holds every ping sent');
  assert.equal(Number(last[3]), seen.packets, "the counter the demo prints is the kernel's");
  assert.match(out, /demo-device-1 +online +count +acme\/count +1\.1\.0 +ROLLED_BACK/);
  assert.match(out, /the demo passed/);
  assert.equal(networkExists(DEMO_PROFILE.network), false, 'namespaces removed');
  assert.equal(existsSync(DEMO_PROFILE.pinRoot), false, 'pins removed');
});
