// `bpfleet fleet register <id>`: a device's broker login (a password, or with --cert a client certificate for a key
// made here) and, with --agent-config / --print-config, the whole agent config the device needs.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { connectRegistry } from '../../registry-client/connect.js';
import { FleetClient } from '../../registry-client/fleet-client.js';
import type { RegistryClient } from '../../registry-client/registry-client.js';
import { readPublicKey } from '../../trust/key-files.js';
import {
  agentConfigFor,
  createDeviceKey,
  renderAgentConfig,
  type TrustKey,
  writeDeviceFiles,
} from '../device-setup.js';
import { printResult } from '../output.js';

interface RegisterOptions {
  registry?: string;
  token?: string;
  json?: boolean;
  group: string[];
  cert?: boolean;
  outDir?: string;
  deviceDir?: string;
  agentConfig?: string;
  printConfig?: boolean;
  serverCa?: string;
  brokerUrl?: string;
  operatorKey: string[];
  publisher: string[];
  stateDir: string;
  allowInterface: string[];
}

const trustKey = async (path: string): Promise<TrustKey> => {
  const k = await readPublicKey(path);
  return { keyId: k.keyId, publicKeyPem: k.publicKeyPem };
};

/** `acme=acme.pub` pairs into namespace → keys. */
async function publisherKeys(cmd: Command, pairs: string[]): Promise<Record<string, TrustKey[]>> {
  const out: Record<string, TrustKey[]> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) cmd.error(`--publisher ${pair}: expected namespace=key.pub`, { exitCode: 2 });
    const ns = pair.slice(0, at);
    out[ns] = [...(out[ns] ?? []), await trustKey(pair.slice(at + 1))];
  }
  return out;
}

async function registerAction(cmd: Command, id: string, o: RegisterOptions): Promise<void> {
  const wantsConfig = o.agentConfig !== undefined || o.printConfig === true;
  if (wantsConfig && o.operatorKey.length === 0) {
    cmd.error(
      '--agent-config/--print-config: give the operator keys devices trust (--operator-key FILE.pub)',
      {
        exitCode: 2,
      },
    );
  }
  // Read every input before registering: a mistake then costs no half-registered device.
  const operatorKeys = await Promise.all(o.operatorKey.map(trustKey));
  const publishers = await publisherKeys(cmd, o.publisher);
  const admin: RegistryClient = await connectRegistry(o, 'admin');
  const fleet = new FleetClient(admin);
  const registryKey = wantsConfig ? await admin.getRegistryKey() : undefined;
  const key = o.cert ? createDeviceKey() : undefined;
  const device = key
    ? await fleet.registerDeviceWithKey(id, o.group, key.publicKeyPem)
    : await fleet.registerDevice(id, o.group);
  const password = 'password' in device.broker ? device.broker.password : undefined;
  const certificate = 'tls' in device.broker ? device.broker.tls : undefined;
  const files =
    key || o.serverCa
      ? await writeDeviceFiles(o.outDir ?? id, o.deviceDir, {
          ...(key && certificate && { key: key.privateKeyPem, cert: certificate.certificate }),
          ...(o.serverCa && { serverCaFile: o.serverCa }),
        })
      : undefined;
  let configText: string | undefined;
  if (registryKey) {
    const config = agentConfigFor({
      deviceId: id,
      fleet: device.fleet,
      groups: o.group,
      broker: {
        url: o.brokerUrl ?? device.broker.url,
        username: id,
        ...(password !== undefined && { password }),
      },
      registryUrl: admin.url,
      ...(files && { tls: files.tls }),
      trust: {
        operatorKeys,
        registryKeys: [{ keyId: registryKey.keyId, publicKeyPem: registryKey.publicKeyPem }],
        publishers,
      },
      dataDir: o.stateDir,
      allowInterfaces: o.allowInterface,
    });
    configText = renderAgentConfig(config, id);
    // It may hold the broker password: readable by its owner only.
    if (o.agentConfig) await writeFile(o.agentConfig, configText, { mode: 0o600 });
  }
  if (o.printConfig && configText && !o.json) return void process.stdout.write(configText);
  const result = {
    ...device,
    ...(files && { files: { dir: files.dir, ...files.tls } }),
    ...(o.agentConfig && { agentConfig: o.agentConfig }),
    ...(o.printConfig && configText && { agentConfigText: configText }),
  };
  printResult(o, result, () =>
    [
      `registered ${id} in fleet ${device.fleet}`,
      `broker    ${device.broker.url}`,
      `username  ${device.broker.username}`,
      ...(password !== undefined ? [`password  ${password}  (shown once)`] : []),
      ...(certificate && files
        ? [
            `cert      ${join(files.dir, 'device.crt')} (until ${certificate.notAfter})`,
            `key       ${join(files.dir, 'device.key')} (made here, never sent; copy it to the device only)`,
          ]
        : []),
      ...(o.agentConfig ? [`config    ${o.agentConfig}  (bpfleet-agent --config ${o.agentConfig})`] : []),
    ].join('\n'),
  );
}

const collect = (value: string, previous: string[]) => [...previous, value];
const collectGroups = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean),
];

/** Adds `register` under `fleet`; `common` adds --registry, --token and --json. */
export function registerDeviceCommand(fleet: Command, common: (c: Command) => Command): void {
  const cmd = common(
    fleet
      .command('register')
      .description(
        'Register a device: a broker password (shown once), or with --cert a client certificate; optionally the whole agent config',
      )
      .argument('<id>', 'device id (its MQTT client id, username and certificate CN)')
      // Not variadic: `--group lab ux-cpe-9` must leave the id an argument, not make it a second group.
      .option(
        '--group <name>',
        'a group the device belongs to (repeatable, or comma-separated)',
        collectGroups,
        [],
      )
      .option('--cert', "make the device's key here and have the edge's device CA certify it (no password)")
      .option(
        '--out-dir <dir>',
        'where the device key, certificate and server CA are written (default ./<id>)',
      )
      .option(
        '--device-dir <dir>',
        'where those files will be on the device (paths in the config; default --out-dir)',
      )
      .option('--agent-config <file>', 'write the complete bpfleet-agent config (YAML, mode 0600)')
      .option('--print-config', 'print the agent config instead of the summary')
      .option('--server-ca <file>', "the CA of the edge's TLS certificate (the agent's tls.ca)")
      .option(
        '--broker-url <url>',
        "the broker URL devices use, when it is not the edge's own (mosquitto's certificate listener)",
      )
      .option('--operator-key <file.pub>', 'an operator key the device trusts (repeatable)', collect, [])
      .option('--publisher <ns=file.pub>', 'a publisher key for a namespace (repeatable)', collect, [])
      .option('--state-dir <dir>', "the agent's data directory on the device", '/var/lib/bpfleet-agent')
      .option('--allow-interface <name>', 'an interface policies may attach to (repeatable)', collect, [])
      .addHelpText(
        'after',
        `
Examples:
  bpfleet fleet register gw-0042 --group eu-west
  bpfleet fleet register gw-0042 --cert --server-ca edge-ca.crt --operator-key ops.pub \\
    --publisher acme=acme.pub --allow-interface wan0 --out-dir ./gw-0042 --device-dir /etc/bpfleet \\
    --agent-config ./gw-0042/agent.yaml
  then on the device: bpfleet-agent --config /etc/bpfleet/agent.yaml`,
      ),
  );
  cmd.action((id: string, o: RegisterOptions) => registerAction(cmd, id, o));
}
