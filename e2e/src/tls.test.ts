// The real bpfleet-edge with TLS (its certificate from a test CA, its own device CA) and the real agent over mqtts
// and https: a device set up by `bpfleet fleet register --cert --agent-config` attaches xdp-firewall (the kernel
// shows it), the same through a real mosquitto's certificate listener; a wrong CA, a certificate under another
// client id are refused; a password device's password never crosses the wire in clear (tcpdump for the run).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { libraryProgram } from '@bpfleet/agent';
import {
  createServerPki,
  issueSecret,
  loadOrCreateDeviceCa,
  renderDynsecConfig,
  renderMosquittoConf,
  type ServerPki,
} from '@bpfleet/registry';
import { type Policy, signPolicy } from '@bpfleet/sdk/policy';
import { createRegistryClient } from '@bpfleet/sdk/registry-client';
import { generateKeyPair, toSigningKey, writeKeyPair } from '@bpfleet/sdk/trust';
import mqtt from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { type AgentProcess, spawnAgent } from './fixtures/agent-process.js';
import { createDeviceNetwork, type DeviceNetwork } from './fixtures/device-network.js';
import { type EdgeProcess, freePort, startEdgeProcess } from './fixtures/edge-process.js';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { signedPackage } from './fixtures/test-packages.js';
import { fetchTrusting } from './fixtures/tls-fetch.js';
import { until } from './fixtures/until.js';

const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));
const FLEET = 'tls';
const operator = generateKeyPair();
const publisher = generateKeyPair();
const tag = randomBytes(3).toString('hex');

let work: string;
let net: DeviceNetwork;
let pki: ServerPki;
let edge: EdgeProcess;
let edgeDataDir: string;
const files: Record<string, string> = {};
const agents: AgentProcess[] = [];
const pinRoots: string[] = [];
const children: ChildProcess[] = [];
let pkgVersion = '';

const pinRoot = () => {
  const path = `/sys/fs/bpf/bpfleet-tls-${tag}-${pinRoots.length}`;
  pinRoots.push(path);
  return path;
};

/** `bpfleet …` as an operator runs it: the edge's CA trusted through NODE_EXTRA_CA_CERTS, the token in the env. */
async function bpfleet(args: string[], e: EdgeProcess = edge): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args, '--json'], {
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: files.serverCa,
      BPFLEET_REGISTRY: e.url,
      BPFLEET_ADMIN_TOKEN: e.adminToken,
      BPFLEET_CREDENTIALS: join(work, 'credentials.json'),
    },
  }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`bpfleet ${args.join(' ')}: ${err.stdout ?? ''}${err.stderr ?? ''}`);
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Registers `id` with the CLI and writes its complete agent config; returns the CLI's answer and the config path. */
async function register(id: string, extra: string[], e: EdgeProcess = edge) {
  const dir = join(work, id);
  const config = join(dir, 'agent.yaml');
  await mkdir(dir, { recursive: true });
  const answer = await bpfleet(
    [
      'fleet',
      'register',
      id,
      '--server-ca',
      files.serverCa!,
      '--operator-key',
      files.operatorPub!,
      '--publisher',
      `acme=${files.publisherPub}`,
      '--allow-interface',
      net.wan,
      '--allow-interface',
      'tlsx0',
      '--state-dir',
      join(dir, 'data'),
      '--out-dir',
      join(dir, 'files'),
      '--agent-config',
      config,
      ...extra,
    ],
    e,
  );
  return { answer, config };
}

async function applyPolicy(e: EdgeProcess, device: string, iface: string): Promise<void> {
  const { nextSerial: serial } = await e.fleet.currentPolicy({ device });
  const policy: Policy = {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial,
    expires: '2099-01-01T00:00:00Z',
    target: { device },
    fleet: FLEET,
    programs: [{ id: 'fw', package: 'acme/xdp-firewall', version: pkgVersion, attach: { interface: iface } }],
  };
  await e.fleet.applyPolicy(await signPolicy(policy, toSigningKey(operator.privateKeyPem)));
}

async function publishFirewall(e: EdgeProcess): Promise<void> {
  const { object, manifest } = libraryProgram('xdp-firewall');
  manifest.name = 'acme/xdp-firewall';
  await e.admin.createNamespace('acme');
  await e.admin.addPublisherKey('acme', publisher.publicKeyPem);
  const { token } = await e.admin.createToken('acme', 'tls-e2e');
  const pkg = await signedPackage(manifest, object, publisher);
  pkgVersion = pkg.version;
  const client = createRegistryClient({ url: e.url, token, fetch: fetchTrusting(pki.caPem) });
  await client.publish({
    namespace: 'acme',
    name: 'xdp-firewall',
    version: pkg.version,
    archive: pkg.archive,
    bundle: pkg.bundle,
  });
}

const presence = async (e: EdgeProcess, id: string) => (await e.fleet.getDevice(id)).presence;

function startAgent(config: string, env: Record<string, string> = {}): AgentProcess {
  const agent = spawnAgent(net.deviceNs, config, {
    BPFLEET_PIN_ROOT: pinRoot(),
    BPFLEET_METRICS_PORT: '0',
    ...env,
  });
  agents.push(agent);
  return agent;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-tls-'));
  net = createDeviceNetwork({ tag: 'tls', block: 132 });
  // A second XDP interface in the device for the mosquitto device (one XDP program per interface).
  net.inDevice('ip', ['link', 'add', 'tlsx0', 'type', 'veth', 'peer', 'name', 'tlsx1']);
  net.inDevice('ip', ['link', 'set', 'tlsx0', 'up']);
  net.inDevice('ip', ['link', 'set', 'tlsx1', 'up']);
  pki = await createServerPki([net.edgeAddr, '127.0.0.1']);
  const put = async (name: string, text: string, mode = 0o644) => {
    files[name] = join(work, name);
    await writeFile(files[name]!, text, { mode });
  };
  await put('serverCa', pki.caPem);
  await put('serverCert', pki.certPem);
  await put('serverKey', pki.keyPem, 0o600);
  await put('publisherPub', publisher.publicKeyPem);
  const op = await writeKeyPair(join(work, 'keys'), 'operator', operator);
  files.operatorPub = op.publicKeyPath;
  edgeDataDir = join(work, 'edge');
  edge = await startEdgeProcess({
    dataDir: edgeDataDir,
    fleet: FLEET,
    operatorKeyFile: op.publicKeyPath,
    host: net.edgeAddr,
    args: ['--tls-cert', files.serverCert!, '--tls-key', files.serverKey!],
    fetch: fetchTrusting(pki.caPem),
  });
  await publishFirewall(edge);
});

after(async () => {
  for (const agent of agents) {
    agent.signal('SIGKILL');
    await agent.exited;
  }
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
  }
  for (const path of pinRoots) await rm(path, { recursive: true, force: true });
  await edge?.stop().catch(() => {});
  net?.remove();
  await rm(work, { recursive: true, force: true });
});

test('the edge serves HTTPS and MQTT over TLS; plain connections get nothing', async () => {
  assert.match(edge.url, /^https:/);
  assert.match(edge.brokerUrl, /^mqtts:/);
  const plain = await fetch(`${edge.url.replace('https:', 'http:')}/healthz`).then(
    () => 'answered',
    () => 'refused',
  );
  assert.equal(plain, 'refused');
});

let certified: { config: string; dir: string; agent?: AgentProcess };

test('fleet register --cert: a key made here, a certificate from the edge CA, a config the agent runs with over mTLS', async () => {
  const { answer, config } = await register('tls-dev', ['--cert']);
  const dir = join(work, 'tls-dev', 'files');
  certified = { config, dir };
  assert.equal((answer.broker as { password?: string }).password, undefined, 'no password with --cert');
  assert.equal((await stat(join(dir, 'device.key'))).mode & 0o777, 0o600);
  assert.equal((await stat(config)).mode & 0o777, 0o600);
  // openssl as the independent judge: CN = device id, signed by the edge's device CA, for client auth.
  const subject = execFileSync('openssl', ['x509', '-in', join(dir, 'device.crt'), '-noout', '-subject'], {
    encoding: 'utf8',
  });
  assert.match(subject, /CN ?= ?tls-dev/);
  const verified = execFileSync(
    'openssl',
    [
      'verify',
      '-purpose',
      'sslclient',
      '-CAfile',
      join(edgeDataDir, 'device-ca.crt'),
      join(dir, 'device.crt'),
    ],
    { encoding: 'utf8' },
  );
  assert.match(verified, /OK/);
  const yaml = parseYaml(await readFile(config, 'utf8')) as Record<string, Record<string, unknown>>;
  assert.equal(yaml.broker?.url, edge.brokerUrl);
  assert.equal(yaml.registry?.url, edge.url);
  assert.deepEqual(Object.keys(yaml.tls ?? {}).sort(), ['ca', 'cert', 'key']);

  certified.agent = startAgent(config);
  await until(
    async () => (await presence(edge, 'tls-dev')) === 'online',
    'tls-dev online over mqtts',
    30_000,
    () => certified.agent?.logs().slice(-5),
  );
  await applyPolicy(edge, 'tls-dev', net.wan);
  await until(
    () => xdpPrograms(net.deviceNs, net.wan).length === 1,
    'xdp-firewall attached (bpftool)',
    45_000,
    () => certified.agent?.logs().slice(-5),
  );
  const links = JSON.parse(net.inDevice('ip', ['-j', 'link', 'show', 'dev', net.wan])) as Array<{
    xdp?: { prog?: { id: number } };
  }>;
  assert.equal(
    links[0]?.xdp?.prog?.id,
    xdpPrograms(net.deviceNs, net.wan)[0],
    'ip -j link shows the program',
  );
});

test("the device's certificate under another client id is refused by the embedded broker", async () => {
  const err = await mqtt
    .connectAsync(edge.brokerUrl, {
      clientId: 'tls-other',
      reconnectPeriod: 0,
      protocolVersion: 4,
      ca: pki.caPem,
      cert: readFileSync(join(certified.dir, 'device.crt'), 'utf8'),
      key: readFileSync(join(certified.dir, 'device.key'), 'utf8'),
    })
    .then(
      (c) => c.endAsync().then(() => assert.fail('connected')),
      (e: { code?: number }) => e,
    );
  assert.equal((err as { code?: number }).code, 2, 'CONNACK 2: identifier rejected');
});

test('an agent whose tls.ca is another CA refuses the edge with a clear error', async () => {
  const other = await createServerPki([net.edgeAddr], 'not the edge CA');
  const wrongCa = join(work, 'wrong-ca.crt');
  await writeFile(wrongCa, other.caPem);
  const yaml = parseYaml(await readFile(certified.config, 'utf8')) as { tls: { ca: string } };
  yaml.tls.ca = wrongCa;
  const config = join(work, 'wrong-ca.json');
  await writeFile(config, JSON.stringify(yaml), { mode: 0o600 });
  const agent = startAgent(config, {
    BPFLEET_DATA_DIR: join(work, 'wrong-ca-data'),
    BPFLEET_DEVICE_ID: 'tls-dev',
  });
  await until(
    () => agent.logs().some((l) => l.includes('mqtt TLS refused')),
    'the TLS refusal logged',
    20_000,
    () => agent.logs().slice(-5),
  );
  const line = agent.logs().find((l) => l.includes('mqtt TLS refused')) ?? '';
  assert.match(line, /not trusted by tls\.ca/);
  agent.signal('SIGKILL');
  await agent.exited;
});

/** tcpdump of one interface (in `ns`, or this namespace) into `file`, until stopped. */
function capture(file: string, iface: string, filter: string, ns?: string): ChildProcess {
  const cmd = ['tcpdump', '-i', iface, '-U', '-s', '0', '-w', file, filter];
  const child = ns
    ? spawn('nsenter', [`--net=/run/netns/${ns}`, ...cmd], { stdio: 'ignore' })
    : spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function stopCapture(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGINT');
  await exited;
}

test('a password device over TLS: the password never crosses the wire in clear', async () => {
  const port = (url: string) => new URL(url).port;
  const filter = `host ${net.edgeAddr} and (tcp port ${port(edge.url)} or tcp port ${port(edge.brokerUrl)})`;
  const onUplink = join(work, 'uplink.pcap');
  const onLoopback = join(work, 'loopback.pcap');
  const captures = [capture(onUplink, 'uplink', filter, net.deviceNs), capture(onLoopback, 'lo', filter)];
  await sleep(1000);
  const { answer, config } = await register('tls-pw', []);
  const password = (answer.broker as { password: string }).password;
  assert.ok(password && password.length >= 32);
  const agent = startAgent(config);
  await until(
    async () => (await presence(edge, 'tls-pw')) === 'online',
    'tls-pw online over mqtts',
    30_000,
    () => agent.logs().slice(-5),
  );
  await sleep(500);
  await Promise.all(captures.map(stopCapture));
  const packets = (file: string) =>
    execFileSync('tcpdump', ['-r', file, '-nn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean).length;
  assert.ok(packets(onUplink) > 5, 'the agent-to-broker traffic was captured');
  assert.ok(packets(onLoopback) > 5, 'the CLI-to-edge traffic was captured');
  for (const file of [onUplink, onLoopback]) {
    const bytes = await readFile(file);
    assert.equal(bytes.includes(Buffer.from(password)), false, `${file}: the password is not in clear`);
  }
});

test('mosquitto with use_identity_as_username: the agent logs in by certificate and attaches xdp-firewall', async () => {
  // The edge's device CA made before mosquitto starts (its cafile); the edge then finds it in its data dir.
  const dataDir = join(work, 'edge-mq');
  const ca = await loadOrCreateDeviceCa(dataDir);
  const dir = join(work, 'mosquitto');
  await mkdir(dir, { recursive: true });
  const controller = { name: 'bpfleet-controller', ...issueSecret() };
  const dynsec = join(dir, 'dynamic-security.json');
  await writeFile(
    dynsec,
    renderDynsecConfig(FLEET, [
      { identity: { role: 'controller', fleet: FLEET, name: controller.name }, secret: controller.secret },
    ]),
    { mode: 0o600 },
  );
  const pem = async (name: string, text: string) => {
    await writeFile(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const port = await freePort();
  const tlsPort = await freePort(net.edgeAddr);
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    renderMosquittoConf({
      port,
      dynsecConfigFile: dynsec,
      user: userInfo().username,
      tls: {
        port: tlsPort,
        host: net.edgeAddr,
        caFile: await pem('device-ca.crt', ca.certPem),
        certFile: await pem('server.crt', pki.certPem),
        keyFile: await pem('server.key', pki.keyPem),
      },
    }),
  );
  const mosquitto = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  children.push(mosquitto);
  await sleep(700);
  const op = join(work, 'keys', 'operator.pub');
  const edgeMq = await startEdgeProcess({
    dataDir,
    fleet: FLEET,
    operatorKeyFile: op,
    host: net.edgeAddr,
    broker: { url: `mqtt://127.0.0.1:${port}`, username: controller.name, password: controller.secret },
    args: ['--broker-dynsec', '--tls-cert', files.serverCert!, '--tls-key', files.serverKey!],
    fetch: fetchTrusting(pki.caPem),
  });
  try {
    await publishFirewall(edgeMq);
    const brokerUrl = `mqtts://${net.edgeAddr}:${tlsPort}`;
    const { config } = await register('tls-mq', ['--cert', '--broker-url', brokerUrl], edgeMq);
    const agent = startAgent(config);
    await until(
      async () => (await presence(edgeMq, 'tls-mq')) === 'online',
      'tls-mq online through mosquitto',
      30_000,
      () => agent.logs().slice(-5),
    );
    await applyPolicy(edgeMq, 'tls-mq', 'tlsx0');
    await until(
      () => xdpPrograms(net.deviceNs, 'tlsx0').length === 1,
      'xdp-firewall attached on tlsx0 (bpftool)',
      45_000,
      () => agent.logs().slice(-5),
    );
    const links = JSON.parse(net.inDevice('ip', ['-j', 'link', 'show', 'dev', 'tlsx0'])) as Array<{
      xdp?: { prog?: { id: number } };
    }>;
    assert.equal(links[0]?.xdp?.prog?.id, xdpPrograms(net.deviceNs, 'tlsx0')[0]);
  } finally {
    await edgeMq.stop();
  }
});
