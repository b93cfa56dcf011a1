// `npm start` works: the compiled entry with --exit-when-ready, run twice (the second reuses what the first
// published), exits 0 once the device counts traffic, and leaves no namespace, pin or process behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { networkExists, removeNetwork } from './local-device-network.js';
import { quickstartProfile } from './quickstart.js';
import { statePaths } from './workspace-paths.js';

// Instance 1: never the user's own `npm start`, which may be running beside the tests.
const INSTANCE = '1';
const profile = quickstartProfile(Number(INSTANCE));
const MAIN = fileURLToPath(new URL('./start-main.js', import.meta.url));
const pidFile = join(statePaths(profile.name).root, 'pids.json');
// The firewall's version as its manifest says it (what `stable` points at after publishing).
const FIREWALL = (
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL('../../../bpf-programs/xdp-firewall/manifest.json', import.meta.url)),
      'utf8',
    ),
  ) as { version: string }
).version.replaceAll('.', '\\.');
const children: number[] = [];

after(async () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: the normal case.
    }
  }
  removeNetwork(profile.network);
  await rm(profile.pinRoot, { recursive: true, force: true });
});

function runStart(): Promise<{ code: number | string; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, '--exit-when-ready', '--timeout', '40'], {
      env: { ...process.env, BPFLEET_QUICKSTART_INSTANCE: INSTANCE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) children.push(child.pid);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, out }));
  });
}

function assertNothingLeft(): void {
  assert.equal(networkExists(profile.network), false, 'namespaces removed');
  assert.equal(existsSync(profile.pinRoot), false, 'pins removed');
  assert.deepEqual(JSON.parse(readFileSync(pidFile, 'utf8')), [], 'every recorded process ended');
}

test('npm start --exit-when-ready: the device attaches the firewall and counts, twice, and cleans up', {
  timeout: 110_000,
}, async () => {
  const first = await runStart();
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /registry {6}http:\/\/198\.18\.252\.1:\d+/);
  assert.match(
    first.out,
    /console {7}http:\/\/198\.18\.252\.1:\d+\/console +\(sign in with the admin token\)/,
  );
  assert.match(first.out, /mqtt broker {3}mqtt:\/\/198\.18\.252\.1:\d+/);
  assert.match(first.out, /warning: these are DEVELOPMENT keys/);
  assert.match(first.out, new RegExp(`bpfleet/xdp-firewall@${FIREWALL} .* on channel stable`));
  assert.match(
    first.out,
    new RegExp(
      `qs-device-1 +online +firewall +bpfleet/xdp-firewall +${FIREWALL} +ATTACHED +packets\\{verdict=pass\\}=[1-9]`,
    ),
  );
  assert.match(first.out, /ready: firewall ATTACHED on qs-device-1 and counting/);
  assertNothingLeft();

  const second = await runStart();
  assert.equal(second.code, 0, second.out);
  assert.match(second.out, new RegExp(`already published bpfleet/xdp-firewall@${FIREWALL}`));
  const serial = (out: string) => Number(/policy {8}group gateways serial (\d+)/.exec(out)?.[1]);
  assert.ok(serial(second.out) > serial(first.out), 'the second policy has a higher serial');
  assert.match(second.out, /ready: firewall ATTACHED/);
  assertNothingLeft();
});
