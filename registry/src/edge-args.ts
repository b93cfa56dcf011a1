// bpfleet-edge's command line: the options, the usage text, and refusal of secrets passed as arguments.
import { parseArgs } from 'node:util';
import { ConfigError } from '@bpfleet/sdk/errors';

export const USAGE = `Usage: bpfleet-edge [options]

The bpfleet operator edge: package registry, signed index, fleet controller, MQTT broker, console.
Precedence: defaults < --config file < BPFLEET_EDGE_* environment < options.

Options:
  -c, --config FILE             JSON config file (BPFLEET_EDGE_CONFIG)
      --data-dir DIR            catalog, blobs, fleet database, keys (default /var/lib/bpfleet-edge)
      --host ADDR               HTTP and embedded broker address (default 127.0.0.1)
  -p, --port N                  HTTP port (default 8080; 0 picks a free one)
      --index-ttl DURATION      signed index validity, e.g. 24h (default 24h)
      --max-package-bytes N     largest publish (default 64 MiB)
      --workers N|auto          HTTP processes (default 1; the fleet side needs 1)
      --database URL            a shared PostgreSQL catalog, postgres://user@host:5432/db
                                (BPFLEET_EDGE_DATABASE; default SQLite in the data dir); the
                                fleet, policy and rollout stores stay in the data dir for now
      --database-password-file F  its password, read from a file (or PGPASSWORD, ~/.pgpass)
      --blobs URL               a shared S3 bucket, s3://bucket[/prefix]?endpoint=http://host:port
                                (BPFLEET_EDGE_BLOBS; credentials from AWS_ACCESS_KEY_ID and
                                AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE)
      --fleet NAME              the fleet's name in MQTT topics (default default)
      --broker-port N           embedded MQTT broker port (default 1883)
      --tls-cert FILE           serve HTTPS and MQTT over TLS with this certificate (PEM, chain
                                after the leaf; BPFLEET_EDGE_TLS_CERT); devices may then log in
                                with a certificate from the edge's device CA (fleet register --cert)
      --tls-key FILE            its private key (PEM; BPFLEET_EDGE_TLS_KEY)
      --device-cert-lifetime D  device certificates' validity, e.g. 90d (default); devices
                                renew theirs over HTTPS when a third of it is left
      --broker URL              an external broker (mqtt:// or mqtts://) instead of the embedded one
      --broker-username NAME    the controller's login on the external broker
      --broker-password-file F  its password, read from a file (or BPFLEET_EDGE_BROKER_PASSWORD)
      --broker-dynsec           the external broker is mosquitto with its dynamic security plugin:
                                device logins are added and removed there (sessions closed)
      --admin-token-file FILE   the admin token, read from a file (or BPFLEET_EDGE_ADMIN_TOKEN);
                                at least 32 characters of random text; without one a token is
                                generated and printed once
      --operator-key FILE.pub   a key whose signed policies the edge accepts (repeatable)
      --operator-threshold K    a policy needs K distinct operator signatures (default 1;
                                BPFLEET_EDGE_OPERATOR_THRESHOLD)
  -h, --help                    show this help
  -V, --version                 show the version

Secrets are never taken as arguments (every local user sees them in ps): use a file or the environment.

Examples:
  bpfleet-edge --data-dir ./edge-data --port 8080
  bpfleet-edge --data-dir ./edge-data --tls-cert edge.crt --tls-key edge.key --broker-port 8883
  bpfleet-edge --data-dir /var/lib/bpfleet-edge --host 10.0.0.1 --fleet carrier --operator-key ops.pub
  bpfleet-edge --operator-key op1.pub --operator-key op2.pub --operator-key op3.pub --operator-threshold 2
  BPFLEET_EDGE_ADMIN_TOKEN="$(openssl rand -base64 32)" bpfleet-edge --data-dir ./edge-data
  PGPASSWORD=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… bpfleet-edge --data-dir ./edge-a \\
    --database postgres://bpfleet@db.example:5432/bpfleet --blobs 's3://bpfleet-blobs?endpoint=http://rgw.example:7480'
  bpfleet-edge --broker mqtts://mq.example:8883 --broker-username bpfleet-controller \\
    --broker-password-file /run/credentials/bpfleet-edge/broker-password
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'index-ttl': { type: 'string' },
  'max-package-bytes': { type: 'string' },
  workers: { type: 'string' },
  database: { type: 'string' },
  'database-password-file': { type: 'string' },
  blobs: { type: 'string' },
  fleet: { type: 'string' },
  'broker-port': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'device-cert-lifetime': { type: 'string' },
  broker: { type: 'string' },
  'broker-username': { type: 'string' },
  'broker-password-file': { type: 'string' },
  'broker-dynsec': { type: 'boolean' },
  'admin-token-file': { type: 'string' },
  'operator-key': { type: 'string', multiple: true },
  'operator-threshold': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  // Known only to be refused with the way to pass them instead.
  'broker-password': { type: 'string' },
  'admin-token': { type: 'string' },
} as const;

const SECRET_FLAGS: Record<string, string> = {
  'broker-password': '--broker-password-file FILE or BPFLEET_EDGE_BROKER_PASSWORD',
  'admin-token': '--admin-token-file FILE or BPFLEET_EDGE_ADMIN_TOKEN',
};

export interface EdgeFlags {
  config?: string;
  'data-dir'?: string;
  host?: string;
  port?: string;
  'index-ttl'?: string;
  'max-package-bytes'?: string;
  workers?: string;
  database?: string;
  'database-password-file'?: string;
  blobs?: string;
  fleet?: string;
  'broker-port'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'device-cert-lifetime'?: string;
  broker?: string;
  'broker-username'?: string;
  'broker-password-file'?: string;
  'broker-dynsec'?: boolean;
  'admin-token-file'?: string;
  'operator-key'?: string[];
  'operator-threshold'?: string;
}

export type EdgeCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; flags: EdgeFlags };

function parseStrict(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError('USAGE', `arguments: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses argv; a usage mistake is a ConfigError with code USAGE (exit 2). */
export function parseEdgeArgs(argv: string[]): EdgeCommand {
  const { help, version, ...values } = parseStrict(argv);
  for (const [flag, instead] of Object.entries(SECRET_FLAGS)) {
    if (flag in values) {
      throw new ConfigError(
        'USAGE',
        `--${flag}: secrets are not taken from the command line (every local user sees them in ps); use ${instead}`,
      );
    }
  }
  if (help) return { kind: 'help' };
  if (version) return { kind: 'version' };
  return { kind: 'run', flags: values };
}
