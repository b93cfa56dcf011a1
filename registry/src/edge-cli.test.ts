// bpfleet-edge as an operator meets it: --help, --version, usage mistakes (exit 2), secrets refused in argv,
// weak admin tokens refused, and a busy port as one clear line before any admin token is shown.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runEdge, startEdge } from './testing/edge-launcher.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hbh-edge-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const version = async () =>
  (JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;

describe('bpfleet-edge arguments', () => {
  it('--help prints usage with examples and exits 0; -h too', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await runEdge([flag]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage: bpfleet-edge \[options\]/);
      assert.match(run.stdout, /Examples:\n {2}bpfleet-edge --data-dir/);
      assert.match(run.stdout, /--broker-password-file/);
      assert.equal(run.stderr, '');
    }
  });

  it('--version prints the package version and exits 0', async () => {
    const run = await runEdge(['--version']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `bpfleet-edge ${await version()}\n`);
  });

  it('an unknown option or a stray argument exits 2 with the usage on stderr', async () => {
    for (const args of [['--bogus'], ['serve'], ['--port']]) {
      const run = await runEdge(args);
      assert.equal(run.code, 2, `${args}: ${run.stderr}`);
      assert.match(run.stderr, /^bpfleet-edge: arguments: /);
      assert.match(run.stderr, /\nUsage: bpfleet-edge \[options\]/);
      assert.equal(run.stdout, '');
    }
  });

  it('a secret as an argument is refused (exit 2) naming the file and environment ways', async () => {
    const secret = randomBytes(24).toString('hex');
    for (const [args, instead] of [
      [
        ['--broker', 'mqtt://127.0.0.1:1', '--broker-username', 'c', '--broker-password', secret],
        /--broker-password-file FILE or BPFLEET_EDGE_BROKER_PASSWORD/,
      ],
      [[`--broker-password=${secret}`], /--broker-password-file/],
      [['--admin-token', secret], /--admin-token-file FILE or BPFLEET_EDGE_ADMIN_TOKEN/],
    ] as const) {
      const run = await runEdge([...args, '--data-dir', join(dir, 'never')]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /secrets are not taken from the command line/);
      assert.match(run.stderr, instead);
      assert.ok(!run.stderr.includes(secret), 'the secret is not echoed');
    }
  });

  it('a weak admin token is refused at start with the reason (exit 1), before anything is created', async () => {
    const dataDir = join(dir, 'weak');
    const weak: [string, RegExp][] = [
      ['correct-horse', /13 characters, fewer than 32/],
      ['abababababababababababababababababab', /too little entropy/],
      ['passwordpasswordpasswordpassword12', /too little entropy/],
      ['0123456789abcdef0123456789abcdef', /too little entropy/],
      ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', /too little entropy/],
    ];
    for (const [token, reason] of weak) {
      const run = await runEdge(['--data-dir', dataDir, '--port', '0', '--broker-port', '0'], {
        BPFLEET_EDGE_ADMIN_TOKEN: token,
      });
      assert.equal(run.code, 1, `${token}: ${run.stdout}`);
      assert.match(run.stderr, /^bpfleet-edge: admin token: /);
      assert.match(run.stderr, reason);
      assert.match(run.stderr, /openssl rand -base64 32/);
    }
    const fromFile = join(dir, 'weak-token');
    await writeFile(fromFile, 'hunter2hunter2hunter2hunter2hunter2\n', { mode: 0o600 });
    const run = await runEdge(['--data-dir', dataDir, '--admin-token-file', fromFile]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /too little entropy/);
    await assert.rejects(readFile(join(dataDir, 'catalog.db')), { code: 'ENOENT' });
  });

  it('a world-readable secret file is refused', async () => {
    const file = join(dir, 'loose-token');
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`);
    await chmod(file, 0o644);
    const run = await runEdge(['--data-dir', join(dir, 'never'), '--admin-token-file', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /readable by other users \(mode 644\); chmod 600 it/);
  });
});

describe('bpfleet-edge on a busy port', () => {
  const holders: Server[] = [];
  after(() => {
    for (const s of holders) s.close();
  });
  const holdPort = async (): Promise<number> => {
    const server = createServer();
    holders.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  };

  for (const which of ['port', 'broker port'] as const) {
    it(`the ${which} in use ends with one line and exit 1, no admin token shown; the next start shows it`, async () => {
      const busy = await holdPort();
      const dataDir = await mkdtemp(join(dir, 'busy-'));
      const args = ['--data-dir', dataDir, '--host', '127.0.0.1'];
      const ports =
        which === 'port'
          ? ['--port', String(busy), '--broker-port', '0']
          : ['--port', '0', '--broker-port', String(busy)];
      const run = await runEdge([...args, ...ports]);
      assert.equal(run.code, 1, run.stdout);
      const lines = run.stderr.split('\n').filter((l) => l && !l.startsWith('{'));
      assert.equal(lines.length, 1, run.stderr);
      assert.match(
        lines[0] as string,
        new RegExp(`^bpfleet-edge: ${which} ${busy} on 127\\.0\\.0\\.1 is in use: `),
      );
      assert.doesNotMatch(run.stderr, /Unhandled|at .*\.js:\d+/);
      assert.doesNotMatch(run.stdout, /admin token/);
      // The token was not generated and lost: a start that succeeds shows it.
      const edge = await startEdge([...args, '--port', '0', '--broker-port', '0']);
      try {
        assert.match(edge.stdout(), /admin token \(shown once, store it now\): bpfa_/);
      } finally {
        await edge.stop();
      }
    });
  }

  it('with --workers 2 the busy port fails the same way before any worker forks', async () => {
    const busy = await holdPort();
    const run = await runEdge([
      '--data-dir',
      await mkdtemp(join(dir, 'busy-')),
      '--port',
      String(busy),
      '--workers',
      '2',
    ]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, new RegExp(`(^|\\n)bpfleet-edge: port ${busy} on 127\\.0\\.0\\.1 is in use: `));
    assert.doesNotMatch(run.stdout, /admin token/);
  });
});
