// The installable agent (issue #16): `npm run package:agent`'s .deb installed into this machine with apt-get, its
// launcher started exactly as the unit's ExecStart (with the unit's environment and capability bounding set) against
// a real bpfleet-edge, an XDP program seen on the hook by `ip -j link`, then `apt-get purge` leaves nothing.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '@bpfleet/sdk/test-kit';
import { buildPackage } from './fixtures/package-build.js';
import { xdpOn } from './truth/kernel-view.js';
import { type PublishedDevice, startPublishedDevice } from './truth/published-device.js';
import { pingsPackage } from './truth/truth-packages.js';

const PACKAGE = 'bpfleet-agent';
const SCRIPT = fileURLToPath(new URL('../../agent/scripts/package-deb.mjs', import.meta.url));
const UNIT = '/lib/systemd/system/bpfleet-agent.service';
/** Every path the package puts on the machine, and dpkg's own record of it. */
const INSTALLED = [
  '/usr/bin/bpfleet-agent',
  '/usr/lib/bpfleet-agent',
  '/etc/bpfleet-agent',
  UNIT,
  '/var/lib/bpfleet-agent',
  '/usr/share/doc/bpfleet-agent',
];

/** dpkg-query's own format syntax (`${Field}`), not a template. */
const field = (name: string) => `-f=$\{${name}}`;

function dpkgStatus(): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', field('Status'), PACKAGE], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const dpkgRecords = () => readdirSync('/var/lib/dpkg/info').filter((f) => f.startsWith(`${PACKAGE}.`));

let d: PublishedDevice | undefined;
let agent: ChildProcess | undefined;
let work: string | undefined;
let installedHere = false;

after(async () => {
  if (agent?.pid && agent.exitCode === null && agent.signalCode === null) {
    process.kill(agent.pid, 'SIGKILL');
    await new Promise((r) => agent?.once('exit', r));
  }
  // Only what this test installed is purged (a failed run must not leave a package behind).
  if (installedHere && dpkgStatus()) spawnSync('dpkg', ['--purge', PACKAGE], { stdio: 'ignore' });
  await d?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The unit's ExecStart, Environment and CapabilityBoundingSet, as systemd would read them. */
function readUnit(): { execStart: string[]; env: string[]; caps: string[] } {
  const lines = readFileSync(UNIT, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'));
  const values = (key: string) =>
    lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  const [execStart] = values('ExecStart');
  assert.ok(execStart, `${UNIT} has an ExecStart`);
  return {
    execStart: execStart.split(' '),
    env: values('Environment'),
    caps: (values('CapabilityBoundingSet')[0] ?? '').split(' ').filter(Boolean),
  };
}

test('the Debian package installs, runs the agent as its unit would, attaches XDP, and purges clean', async (t) => {
  assert.equal(
    dpkgStatus(),
    undefined,
    `${PACKAGE} is already installed here: the test installs and purges its own`,
  );
  work = await mkdtemp(join(tmpdir(), 'bpfleet-fbk-deb-'));
  const built = JSON.parse(
    execFileSync(process.execPath, [SCRIPT, '--no-build', '--out', work, '--json'], { encoding: 'utf8' }),
  ) as { path: string; arch: string; bytes: number };
  t.diagnostic(`${built.path}: ${(built.bytes / 1e6).toFixed(1)} MB`);

  installedHere = true;
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', built.path], { stdio: 'pipe' });
  assert.equal(dpkgStatus(), 'install ok installed');
  for (const path of INSTALLED) assert.ok(existsSync(path), `${path} is installed`);
  const conffiles = execFileSync('dpkg-query', ['-W', field('Conffiles'), PACKAGE], { encoding: 'utf8' });
  assert.match(conffiles, /\/etc\/bpfleet-agent\/agent\.yaml/, 'the config is a conffile');
  // systemd's own reading of the unit (it needs no running systemd): syntax, ExecStart present and executable.
  const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
  assert.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`);
  assert.equal(verify.stderr.trim(), '', 'systemd-analyze finds nothing to say about the unit');

  // The device, edge and registry of the e2e kit; its own agent goes at once and the packaged one takes its config.
  d = await startPublishedDevice({
    tag: 'fbk',
    block: 134,
    offset: 16,
    namespaces: ['acme'],
    allow: (net) => ({ interfaces: [net.wan], cgroups: [] }),
  });
  d.agent.signal('SIGKILL');
  await d.agent.exited;
  // The fixture's own config file (a /proc read of its cmdline found nothing once the process had gone).
  const config = readFileSync(d.configPath, 'utf8');
  writeFileSync('/etc/bpfleet-agent/agent.yaml', config, { mode: 0o600 });

  const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
  t.diagnostic(
    `PID 1 is ${pid1}: the launcher is started as the unit's ExecStart, environment and capabilities say`,
  );
  const unit = readUnit();
  const bounding = `-all,${unit.caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',')}`;
  const ns = `--net=/run/netns/${d.net.deviceNs}`;
  const env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...unit.env];
  const logs: string[] = [];
  agent = spawn(
    'nsenter',
    [ns, 'env', '-i', ...env, 'setpriv', `--bounding-set=${bounding}`, ...unit.execStart],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  agent.stderr?.on('data', (b: Buffer) => logs.push(...b.toString().split('\n').filter(Boolean)));
  const pid = agent.pid as number;
  const exited = () => agent?.exitCode !== null || agent?.signalCode !== null;
  await until(
    () => readlinkSync(`/proc/${pid}/exe`) === '/usr/lib/bpfleet-agent/node/bin/node',
    'the agent running on the package’s own node',
    10_000,
    () => logs.slice(-5),
  );
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, /^CapBnd:\s+000000c000201000$/m, 'only CAP_BPF, NET_ADMIN, PERFMON and SYS_ADMIN');

  const pkg = await buildPackage({ ...pingsPackage('fbk-deb-pings', '1.0.0'), dir: join(work, 'pkg') });
  const ref = await d.publish(pkg.archive);
  const device = d;
  await device.apply([
    {
      id: 'fbk-deb',
      package: `${ref.namespace}/${ref.name}`,
      version: ref.version,
      attach: { interface: device.net.wan },
      config: { drop_icmp: 1 },
    },
  ]);
  await until(
    async () =>
      exited() ||
      ((await device.reported()).some((p) => p.id === 'fbk-deb' && p.status === 'ATTACHED') &&
        xdpOn(device.net.deviceNs, device.net.wan)?.name === 'h7t_xdp'),
    'ATTACHED at the edge and the program on wan0 (ip -j link)',
    45_000,
    () => [xdpOn(device.net.deviceNs, device.net.wan), logs.slice(-5)],
  );
  assert.ok(!exited(), `the packaged agent is running: ${logs.slice(-5).join('\n')}`);
  assert.equal((await device.net.ping(3)).received, 0, 'the packaged agent’s firewall drops the pings');
  assert.ok(readdirSync('/var/lib/bpfleet-agent').length > 0, 'state in /var/lib/bpfleet-agent (the unit’s)');

  await device.apply([]);
  await until(
    async () => (await device.reported()).length === 0 && !xdpOn(device.net.deviceNs, device.net.wan),
    'the program removed',
    20_000,
  );
  process.kill(pid, 'SIGTERM');
  await new Promise((r) => agent?.once('exit', r));

  execFileSync('apt-get', ['purge', '-y', PACKAGE], { stdio: 'pipe' });
  assert.equal(dpkgStatus(), undefined, 'dpkg knows no bpfleet-agent');
  assert.deepEqual(dpkgRecords(), [], 'no record left in /var/lib/dpkg/info');
  assert.deepEqual(
    INSTALLED.filter((p) => existsSync(p)),
    [],
    'no file of the package left',
  );
});
