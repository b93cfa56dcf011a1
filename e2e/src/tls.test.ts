// The real bpfleet-edge with TLS (its certificate from a test CA, its own device CA) and the real agent over mqtts
// and https: a device set up by `bpfleet fleet register --cert --agent-config` attaches xdp-firewall (the kernel
// shows it), the same through a real mosquitto's certificate listener; a wrong CA, a certificate under another
// client id are refused; a password device's password never crosses the wire in clear (tcpdump for the run).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createServerPki,
  issueSecret,
  loadOrCreateDeviceCa,
  renderDynsecConfig,
  renderMosquittoConf,
} from '@bpfleet/registry';
import { freePort, until } from '@bpfleet/sdk/test-kit';
import mqtt from 'mqtt';
import { parse as parseYaml } from 'yaml';
import type { AgentProcess } from './fixtures/agent-process.js';
import type { EdgeProcess } from './fixtures/edge-process.js';
import { xdpPrograms } from './fixtures/kernel-state.js';
import { createTlsFleet, type TlsFleet } from './fixtures/tls-fleet.js';

let w: TlsFleet;
let edge: EdgeProcess;
let edgeDataDir: string;

before(async () => {
  w = await createTlsFleet('tls', 132);
  // A second XDP interface in the device for the mosquitto device (one XDP program per interface).
  w.net.inDevice('ip', ['link', 'add', 'tlsx0', 'type', 'veth', 'peer', 'name', 'tlsx1']);
  w.net.inDevice('ip', ['link', 'set', 'tlsx0', 'up']);
  w.net.inDevice('ip', ['link', 'set', 'tlsx1', 'up']);
  edgeDataDir = join(w.work, 'edge');
  // Short-lived device certificates (1 min, plus the minute they are backdated): renewal comes due within 20 s.
  edge = await w.startEdge(edgeDataDir, { args: ['--device-cert-lifetime', '1m'] });
  await w.publishFirewall(edge);
});

after(() => w?.close());

const presence = async (e: EdgeProcess, id: string) => (await e.fleet.getDevice(id)).presence;
const online = (e: EdgeProcess, id: string, agent: AgentProcess) =>
  until(
    async () => (await presence(e, id)) === 'online',
    `${id} online`,
    30_000,
    () => agent.logs().slice(-5),
  );

/** The XDP program on `dev` as bpftool and `ip -j link` see it: both must agree on one program. */
async function firewallAttached(dev: string, agent: AgentProcess): Promise<void> {
  const { net } = w;
  await until(
    () => xdpPrograms(net.deviceNs, dev).length === 1,
    `xdp on ${dev} (bpftool)`,
    45_000,
    () => agent.logs().slice(-5),
  );
  const [link] = JSON.parse(net.inDevice('ip', ['-j', 'link', 'show', 'dev', dev])) as Array<{
    xdp?: { prog?: { id: number } };
  }>;
  assert.equal(link?.xdp?.prog?.id, xdpPrograms(net.deviceNs, dev)[0], 'ip -j link shows the same program');
}

test('the edge serves HTTPS and MQTT over TLS; a plain HTTP request gets nothing', async () => {
  assert.match(edge.url, /^https:/);
  assert.match(edge.brokerUrl, /^mqtts:/);
  const plain = await fetch(`${edge.url.replace('https:', 'http:')}/healthz`).then(
    () => 'answered',
    () => 'refused',
  );
  assert.equal(plain, 'refused');
});

let certified: { config: string; dir: string; first: { cert: string; key: string }; agent?: AgentProcess };

test('fleet register --cert: a key made here, a certificate from the edge CA, a config the agent runs over mTLS', async () => {
  const { answer, config } = await w.register(edge, 'tls-dev', ['--cert']);
  const dir = join(w.work, 'tls-dev', 'files');
  const first = {
    cert: await readFile(join(dir, 'device.crt'), 'utf8'),
    key: await readFile(join(dir, 'device.key'), 'utf8'),
  };
  certified = { config, dir, first };
  assert.equal((answer.broker as { password?: string }).password, undefined, 'no password with --cert');
  assert.equal((await stat(join(dir, 'device.key'))).mode & 0o777, 0o600);
  assert.equal((await stat(config)).mode & 0o777, 0o600);
  // openssl as the independent judge: CN = device id, signed by the edge's device CA, for client auth.
  const crt = join(dir, 'device.crt');
  const subject = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-subject'], { encoding: 'utf8' });
  assert.match(subject, /CN ?= ?tls-dev/);
  const ca = join(edgeDataDir, 'device-ca.crt');
  const verified = execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', ca, crt], {
    encoding: 'utf8',
  });
  assert.match(verified, /OK/);
  const yaml = parseYaml(await readFile(config, 'utf8')) as Record<string, Record<string, unknown>>;
  assert.equal(yaml.broker?.url, edge.brokerUrl);
  assert.equal(yaml.registry?.url, edge.url);
  assert.deepEqual(Object.keys(yaml.tls ?? {}).sort(), ['ca', 'cert', 'key']);

  const agent = w.startAgent(config);
  certified.agent = agent;
  await online(edge, 'tls-dev', agent);
  await w.applyFirewall(edge, 'tls-dev', w.net.wan);
  await firewallAttached(w.net.wan, agent);
});

test("the device's certificate under another client id is refused by the embedded broker", async () => {
  const err = await mqtt
    .connectAsync(edge.brokerUrl, {
      clientId: 'tls-other',
      reconnectPeriod: 0,
      protocolVersion: 4,
      ca: w.pki.caPem,
      cert: certified.first.cert,
      key: certified.first.key,
    })
    .then(
      (c) => c.endAsync().then(() => assert.fail('connected')),
      (e: { code?: number }) => e,
    );
  assert.equal((err as { code?: number }).code, 2, 'CONNACK 2: identifier rejected');
});

test('the agent renews its certificate over the live session; the old one is refused, the new one reconnects', async () => {
  const agent = certified.agent!;
  const crt = join(certified.dir, 'device.crt');
  await until(
    () => readFileSync(crt, 'utf8') !== certified.first.cert,
    'device.crt replaced',
    60_000,
    () => agent.logs().slice(-5),
  );
  assert.ok(agent.logs().some((l) => l.includes('device certificate renewed')));
  const ca = join(edgeDataDir, 'device-ca.crt');
  assert.match(execFileSync('openssl', ['verify', '-CAfile', ca, crt], { encoding: 'utf8' }), /OK/);
  assert.equal((await stat(join(certified.dir, 'device.key'))).mode & 0o777, 0o600);
  assert.equal(await presence(edge, 'tls-dev'), 'online', 'the session went on');
  const login = (client: { cert: string; key: string }) =>
    mqtt
      .connectAsync(edge.brokerUrl, { clientId: 'tls-dev', reconnectPeriod: 0, ca: w.pki.caPem, ...client })
      .then(
        (c) => c.endAsync().then(() => 'in'),
        (e: { code?: number }) => `refused ${e.code}`,
      );
  assert.equal(await login(certified.first), 'refused 4', 'the first certificate logs in no more');
  // The test logs in with the files' pair, taking the agent's session over; the agent reconnects by itself.
  const connects = () => agent.logs().filter((l) => l.includes('mqtt connected')).length;
  const before = connects();
  // Read as a matching pair (a renewal may land between the two reads; they come due every ~80 s here).
  let files = { cert: '', key: '' };
  await until(() => {
    files = { cert: readFileSync(crt, 'utf8'), key: readFileSync(join(certified.dir, 'device.key'), 'utf8') };
    return new X509Certificate(files.cert).checkPrivateKey(createPrivateKey(files.key));
  }, 'a matching certificate and key on disk');
  assert.equal(await login(files), 'in');
  await until(
    () => connects() > before,
    'the agent reconnected with its new certificate',
    30_000,
    () => agent.logs().slice(-5),
  );
  assert.ok(!agent.logs().some((l) => l.includes('mqtt TLS refused')));
});

test('an agent whose tls.ca is another CA refuses the edge with a clear error', async () => {
  const other = await createServerPki([w.net.edgeAddr], 'not the edge CA');
  const wrongCa = join(w.work, 'wrong-ca.crt');
  await writeFile(wrongCa, other.caPem);
  const yaml = parseYaml(await readFile(certified.config, 'utf8')) as { tls: { ca: string } };
  yaml.tls.ca = wrongCa;
  const config = join(w.work, 'wrong-ca.json');
  await writeFile(config, JSON.stringify(yaml), { mode: 0o600 });
  const agent = w.startAgent(config, { BPFLEET_DATA_DIR: join(w.work, 'wrong-ca-data') });
  const refusal = () => agent.logs().find((l) => l.includes('mqtt TLS refused'));
  await until(
    () => refusal() !== undefined,
    'the TLS refusal logged',
    20_000,
    () => agent.logs().slice(-5),
  );
  assert.match(refusal() ?? '', /not trusted by tls\.ca/);
  agent.signal('SIGKILL');
  await agent.exited;
});

test('a password device over TLS: the password never crosses the wire in clear', async () => {
  const port = (url: string) => new URL(url).port;
  const filter = `host ${w.net.edgeAddr} and (tcp port ${port(edge.url)} or tcp port ${port(edge.brokerUrl)})`;
  const onUplink = join(w.work, 'uplink.pcap');
  const onLoopback = join(w.work, 'loopback.pcap');
  // The agent reaches the edge over the uplink veth; the CLI (this namespace) over loopback.
  const captures = [w.capture(onUplink, 'uplink', filter, true), w.capture(onLoopback, 'lo', filter, false)];
  await sleep(1000);
  const { answer, config } = await w.register(edge, 'tls-pw', []);
  const password = (answer.broker as { password: string }).password;
  assert.ok(password.length >= 32);
  const agent = w.startAgent(config);
  await online(edge, 'tls-pw', agent);
  await sleep(500);
  await Promise.all(captures.map((c) => c.stop()));
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
  // The edge's device CA is made before mosquitto starts (its cafile); the edge then finds it in its data dir.
  const dataDir = join(w.work, 'edge-mq');
  const ca = await loadOrCreateDeviceCa(dataDir);
  const dir = join(w.work, 'mosquitto');
  await mkdir(dir, { recursive: true });
  const pem = async (name: string, text: string) => {
    await writeFile(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const controller = { name: 'bpfleet-controller', ...issueSecret() };
  const identity = { role: 'controller' as const, fleet: 'tls', name: controller.name };
  const dynsec = await pem(
    'dynamic-security.json',
    renderDynsecConfig('tls', [{ identity, secret: controller.secret }]),
  );
  const port = await freePort();
  const tlsPort = await freePort(w.net.edgeAddr);
  const tls = {
    port: tlsPort,
    host: w.net.edgeAddr,
    caFile: await pem('device-ca.crt', ca.certPem),
    certFile: await pem('server.crt', w.pki.certPem),
    keyFile: await pem('server.key', w.pki.keyPem),
  };
  const conf = await pem(
    'mosquitto.conf',
    renderMosquittoConf({ port, dynsecConfigFile: dynsec, user: userInfo().username, tls }),
  );
  w.adopt(spawn('mosquitto', ['-c', conf], { stdio: 'ignore' }));
  await sleep(700);
  // The controller logs in with its password on the plain loopback listener; devices use the certificate one.
  const edgeMq = await w.startEdge(dataDir, {
    broker: { url: `mqtt://127.0.0.1:${port}`, username: controller.name, password: controller.secret },
    args: ['--broker-dynsec'],
  });
  await w.publishFirewall(edgeMq);
  const brokerUrl = `mqtts://${w.net.edgeAddr}:${tlsPort}`;
  const { config } = await w.register(edgeMq, 'tls-mq', ['--cert', '--broker-url', brokerUrl]);
  const agent = w.startAgent(config);
  await online(edgeMq, 'tls-mq', agent);
  await w.applyFirewall(edgeMq, 'tls-mq', 'tlsx0');
  await firewallAttached('tlsx0', agent);
});
