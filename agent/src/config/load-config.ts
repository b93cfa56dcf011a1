// Reads the agent's configuration from the command line, the config file and the environment.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import {
  type AgentConfig,
  ConfigKeyError,
  type ConfigOverrides,
  overridesFromEnv,
  toAgentConfig,
} from './agent-config.js';
import { readTlsFiles } from './tls-files.js';

const FLAGS = {
  config: { type: 'string', short: 'c' },
  'device-id': { type: 'string' },
  fleet: { type: 'string' },
  groups: { type: 'string' },
  'broker-url': { type: 'string' },
  'registry-url': { type: 'string' },
  'data-dir': { type: 'string' },
  'pin-root': { type: 'string' },
  'metrics-port': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

const FLAG_KEYS: Record<string, string> = {
  'device-id': 'deviceId',
  fleet: 'fleet',
  groups: 'groups',
  'broker-url': 'broker.url',
  'registry-url': 'registry.url',
  'data-dir': 'dataDir',
  'pin-root': 'pinRoot',
  'metrics-port': 'metrics.port',
};

export const USAGE = `usage: bpfleet-agent --config <file.json|file.yaml> [--device-id ID] [--fleet NAME] [--groups a,b]
       [--broker-url mqtt://…] [--registry-url http://…] [--data-dir DIR] [--pin-root DIR] [--metrics-port N] [--debug]
       bpfleet-agent --version | --help
Environment: ${['BPFLEET_CONFIG', 'BPFLEET_DEVICE_ID', 'BPFLEET_BROKER_URL', 'BPFLEET_BROKER_PASSWORD', '…'].join(', ')}
Precedence: flags over environment over the config file.`;

export type LoadedConfig =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; config: AgentConfig; debug: boolean };

/** Throws ConfigKeyError (naming the key or flag) for anything wrong; main turns it into exit code 2. */
export async function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigKeyError('(flags)', (err as Error).message);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const path = (values.config as string | undefined) ?? env.BPFLEET_CONFIG;
  if (!path) throw new ConfigKeyError('--config', 'a config file is required (or BPFLEET_CONFIG)');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigKeyError('--config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let file: unknown;
  const yaml = /\.ya?ml$/i.test(path);
  try {
    // YAML files may use anchors and comments; a JSON file must be strict JSON.
    file = yaml ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch (err) {
    throw new ConfigKeyError(
      '--config',
      `${path} is not ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
    );
  }
  const overrides: ConfigOverrides = overridesFromEnv(env);
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = values[flag];
    if (typeof v === 'string') overrides[key] = v;
  }
  const config = toAgentConfig(file, overrides);
  await readTlsFiles(config);
  return { kind: 'run', config, debug: values.debug === true };
}
