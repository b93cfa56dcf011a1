// The edge's systemd unit: systemd's own checker accepts it, and its ExecStart, run as the unit would run it (its
// directories and credential substituted), starts an edge that serves and keeps its data private.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNIT = join(ROOT, 'registry/packaging/bpfleet-edge.service');
const dirs: string[] = [];
let edge: ChildProcess | undefined;
after(async () => {
  if (edge?.exitCode === null) {
    edge.kill('SIGTERM');
    await once(edge, 'exit');
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** `Key=value` lines of the [Service] section (repeated keys in order). */
function serviceSettings(text: string): Array<[string, string]> {
  const section = text.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
  return section
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]);
}

test("systemd-analyze verify accepts the edge's unit without a warning", () => {
  // It exits 0 on an unknown key, with a warning on stderr: the warning is the failure.
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', UNIT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
});

test('its ExecStart, as the unit runs it, starts an edge that serves, with its data private', async () => {
  const settings = serviceSettings(await readFile(UNIT, 'utf8'));
  const get = (key: string) => settings.filter(([k]) => k === key).map(([, v]) => v);
  assert.equal(get('DynamicUser')[0], 'yes', 'runs as a user made for it');
  assert.deepEqual(get('CapabilityBoundingSet'), [''], 'no capability at all');
  const work = await mkdtemp(join(tmpdir(), 'bpfleet-edge-unit-'));
  dirs.push(work);
  const state = join(work, 'state');
  const config = join(work, 'etc');
  const credentials = join(work, 'credentials');
  execFileSync('mkdir', ['-m', '0700', '-p', state, config, credentials]);
  await writeFile(
    join(config, 'edge.json'),
    JSON.stringify({ host: '127.0.0.1', port: 0, brokerPort: 0, fleet: 'unit' }),
  );
  await writeFile(join(credentials, 'admin-token'), randomBytes(32).toString('base64'), { mode: 0o600 });
  const [exec] = get('ExecStart');
  assert.ok(exec);
  // What systemd sets for the unit's directories and credential.
  const unitDirs: Record<string, string> = {
    CONFIGURATION_DIRECTORY: config,
    STATE_DIRECTORY: state,
    CREDENTIALS_DIRECTORY: credentials,
  };
  const argv = exec
    .replace(/\$\{(\w+)\}/g, (_, name: string) => unitDirs[name] ?? assert.fail(`unknown \${${name}}`))
    .replaceAll('/opt/bpfleet/', ROOT)
    .split(/\s+/);
  const env = Object.fromEntries(get('Environment').map((e) => e.split('=', 2) as [string, string]));
  edge = spawn(argv[0]!, argv.slice(1), {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  edge.stdout?.on('data', (d) => (out += d));
  edge.stderr?.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" in 30 s: ${out}${err}`)), 30_000);
    edge!.stdout?.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    edge!.once('exit', (code) => reject(new Error(`edge exited ${code}: ${err}`)));
  });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  const token = (await readFile(join(credentials, 'admin-token'), 'utf8')).trim();
  const who = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(await who.json(), { role: 'admin' }, 'the admin token came from the credential file');
  assert.ok(!err.includes(token), 'the token is never logged');
  for (const line of err.trim().split('\n')) JSON.parse(line); // BPFLEET_LOG_FORMAT=json: journald gets JSON lines
  assert.equal((await stat(join(state, 'catalog.db'))).mode & 0o777, 0o600);
});
