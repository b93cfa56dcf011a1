// The bpfleet-agent binary: --help, --version, a bad config exits 2 naming the key, and the launcher that ships it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('./bpfleet-agent.mjs', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../bin/bpfleet-agent', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bpfleet-agent-main-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

test('--help and --version print and exit 0', () => {
  const help = run(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: bpfleet-agent --config/);
  assert.match(help.stdout, /bpfleet-agent simulate --devices N/);
  const version = run(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^bpfleet-agent \d+\.\d+\.\d+\n$/);
});

test('bad configuration exits 2 with the key named', () => {
  const yaml = join(dir, 'agent.yaml');
  writeFileSync(
    yaml,
    'deviceId: cpe-1\nfleet: home\nbroker: { url: "http://not-mqtt" }\nregistry: { url: "http://127.0.0.1:1" }\ntrust: {}\n',
  );
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], {}, /config --config: a config file is required/],
    [['--nope'], {}, /Unknown option '--nope'/],
    [['--config', yaml], {}, /config broker\.url: expected a mqtt: \/ mqtts: .* URL, got http:/],
    [
      ['--config', yaml],
      { BPFLEET_BROKER_URL: 'mqtt://127.0.0.1:1' },
      /config trust\.operatorKeys: needs at least one key/,
    ],
    [['simulate', '--devices', '0'], {}, /config --devices: expected a number of devices/],
  ];
  for (const [args, env, message] of cases) {
    const r = run(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('the launcher execs node with the heap flags on the bundle (else dist/main.js), also through a symlink', () => {
  // npm's .bin and /usr/bin hold symlinks to the launcher: it must find dist/ from its real path.
  const link = join(dir, 'bpfleet-agent');
  symlinkSync(LAUNCHER, link);
  const version = spawnSync(link, ['--version'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, BPFLEET_NODE: process.execPath },
  });
  // node exits 9 on a flag it does not know: a 0 says this node took every flag.
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^bpfleet-agent \d+\.\d+\.\d+\n$/);

  const fakeNode = join(dir, 'fake-node');
  writeFileSync(
    fakeNode,
    '#!/bin/sh\necho "$MALLOC_MMAP_THRESHOLD_"\nfor a in "$@"; do printf "%s\\n" "$a"; done\n',
  );
  chmodSync(fakeNode, 0o755);
  const launch = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(link, ['--config', '/etc/bpfleet/agent file.json', '--debug'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, BPFLEET_NODE: fakeNode, ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    const [mmapThreshold, ...argv] = r.stdout.trimEnd().split('\n');
    return { mmapThreshold, argv };
  };
  const { mmapThreshold, argv } = launch({});
  assert.equal(mmapThreshold, '65536');
  // `npm run build` bundles; after a bare `tsc --build` there is only dist/main.js.
  const main = argv.indexOf(existsSync(BUNDLE) ? BUNDLE : MAIN);
  assert.ok(main > 0, `the entry after the node flags: ${argv.join(' ')}`);
  assert.ok(
    argv.slice(0, main).every((a) => a.startsWith('--')),
    `only flags before the entry: ${argv.join(' ')}`,
  );
  for (const flag of ['--max-semi-space-size=1', '--v8-pool-size=1', '--max-opt=1'])
    assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
  assert.deepEqual(argv.slice(main + 1), ['--config', '/etc/bpfleet/agent file.json', '--debug']);

  // The operator's own settings win: an allocator threshold, and node flags (e.g. --max-opt=1).
  const tuned = launch({
    MALLOC_MMAP_THRESHOLD_: '131072',
    BPFLEET_NODE_FLAGS: '--max-opt=3 --max-old-space-size=64',
  });
  assert.equal(tuned.mmapThreshold, '131072');
  const entry = tuned.argv.findIndex((a) => !a.startsWith('--'));
  // V8 takes the last of repeated flags: the operator's come after the launcher's.
  assert.deepEqual(tuned.argv.slice(entry - 2, entry), ['--max-opt=3', '--max-old-space-size=64']);

  // The simulator runs thousands of devices in one process: none of the daemon's sizing.
  const sim = spawnSync(link, ['simulate', '--devices', '2'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, BPFLEET_NODE: fakeNode },
  });
  const simArgv = sim.stdout.trimEnd().split('\n').slice(1);
  assert.equal(
    simArgv.filter((a) => a.startsWith('--max-') || a.startsWith('--v8-')).length,
    0,
    simArgv.join(' '),
  );
  assert.deepEqual(simArgv.slice(-3), ['simulate', '--devices', '2']);
});
