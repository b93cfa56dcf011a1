// The bpfleet-agent binary and its pin root: no bpffs (ip netns exec) and a pin root another user made exit 2.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '@bpfleet/sdk/trust';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const NETNS = `h4r-main-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'h4r-agent-main-'));
const mnt = join(work, 'bpffs');
let mounted = false;
let netns = false;

before(() => {
  // The other user must reach the mount to attack it, as it reaches /sys/fs/bpf.
  chmodSync(work, 0o711);
  execFileSync('mkdir', ['-m', '0755', mnt]);
  execFileSync('mount', ['-t', 'bpf', 'h4r-bpffs', mnt]);
  mounted = true;
  execFileSync('ip', ['netns', 'add', NETNS]);
  netns = true;
});

after(() => {
  if (netns) spawnSync('ip', ['netns', 'del', NETNS]);
  if (mounted) spawnSync('umount', [mnt]);
  rmSync(work, { recursive: true, force: true });
});

/** A complete config whose broker and registry are nowhere: the agent must stop before it needs them. */
function config(pinRoot: string): string {
  const key = generateKeyPair();
  const trusted = { keyId: key.keyId, publicKeyPem: key.publicKeyPem };
  const file = join(work, `agent-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      deviceId: 'h4r-dev',
      fleet: 'h4r',
      broker: { url: 'mqtt://127.0.0.1:1' },
      registry: { url: 'http://127.0.0.1:1' },
      trust: { operatorKeys: [trusted], registryKeys: [trusted] },
      dataDir: join(work, 'data'),
      pinRoot,
      metrics: { host: '127.0.0.1', port: 0 },
    }),
  );
  return file;
}

/** The agent with a deadline: a hang (the old recursive mkdir on sysfs) shows as a null status, never a stuck test. */
function agent(prefix: string[], pinRoot: string) {
  const [cmd, ...args] = [...prefix, process.execPath, MAIN, '--config', config(pinRoot)];
  return spawnSync(cmd!, args, { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
}

test('under ip netns exec (sysfs over /sys, no bpffs) the agent exits 2 naming the mount, never spins', () => {
  const started = Date.now();
  const r = agent(['ip', 'netns', 'exec', NETNS], '/sys/fs/bpf/h4r-bpfleet');
  assert.equal(
    r.status,
    2,
    `status ${r.status} signal ${r.signal} after ${Date.now() - started} ms: ${r.stderr}`,
  );
  assert.match(
    r.stderr,
    /pinRoot \/sys\/fs\/bpf\/h4r-bpfleet is not on a bpf filesystem \(\/sys\/fs\/bpf is sysfs\): mount -t bpf bpffs \/sys\/fs\/bpf/,
  );
  assert.match(r.stderr, /nsenter --net=/);
});

test('a pin root another user created in the 1777 bpffs root: the agent exits 2 naming path, owner, mode', () => {
  const pinRoot = join(mnt, 'bpfleet');
  execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'mkdir', pinRoot]);
  const r = agent([], pinRoot);
  assert.equal(r.status, 2, `status ${r.status} signal ${r.signal}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`pinRoot ${pinRoot}: it is owned by uid 65534 with mode 0755`));
  assert.match(r.stderr, /rm -r .*start the agent again/);
  assert.equal(execFileSync('stat', ['-c', '%u', pinRoot], { encoding: 'utf8' }).trim(), '65534');
});
