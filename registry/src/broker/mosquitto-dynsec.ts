// mosquitto's dynamic security plugin for a fleet: the initial config file, and the commands that change it live.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { BpfleetError } from '@bpfleet/sdk/errors';
import {
  DEVICE_PUBLISHED_KINDS,
  deviceTopic,
  groupDesiredTopic,
  rootTopic,
  TOPIC_ROOT,
} from '@bpfleet/sdk/protocol';
import type { MqttClient } from 'mqtt';
import type { BrokerIdentity } from './access-policy.js';
import { usernameOf } from './credentials.js';

/** Where Debian's mosquitto package puts the plugin. */
export const DYNSEC_PLUGIN_PATH = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';

type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern';
interface Acl {
  acltype: AclType;
  topic: string;
  allow: true;
}
const allow = (acltype: AclType, topic: string): Acl => ({ acltype, topic, allow: true });

export interface DynsecClient {
  username: string;
  /** Set for devices: the plugin refuses a login under any other client id. */
  clientid?: string;
  password: string;
  salt: string;
  iterations: number;
  roles: Array<{ rolename: string }>;
}

/** The plugin's own hash format (PBKDF2-SHA512, as `mosquitto_ctrl dynsec init` writes). */
function hashed(secret: string): Pick<DynsecClient, 'password' | 'salt' | 'iterations'> {
  const salt = randomBytes(12);
  const iterations = 101;
  const hash = pbkdf2Sync(secret, salt, iterations, 64, 'sha512');
  return { password: hash.toString('base64'), salt: salt.toString('base64'), iterations };
}

/** A device reads its own and its groups' desired state and writes its own state, nothing else. */
export function deviceAcls(fleet: string, deviceId: string, groups: readonly string[]): Acl[] {
  const desired = [
    deviceTopic(fleet, deviceId, 'desired'),
    ...groups.map((g) => groupDesiredTopic(fleet, g)),
    rootTopic(fleet),
  ];
  return [
    ...DEVICE_PUBLISHED_KINDS.map((kind) => allow('publishClientSend', deviceTopic(fleet, deviceId, kind))),
    ...desired.flatMap((topic) => [allow('subscribeLiteral', topic), allow('publishClientReceive', topic)]),
  ];
}

function controllerAcls(fleet: string): Acl[] {
  const root = `${TOPIC_ROOT}/${fleet}`;
  return [
    allow('publishClientSend', `${root}/dev/+/desired`),
    allow('publishClientSend', `${root}/grp/+/desired`),
    allow('publishClientSend', `${root}/root`),
    allow('subscribePattern', `${root}/#`),
    allow('publishClientReceive', `${root}/#`),
    // The controller administers the plugin: it disables and removes devices with live effect.
    allow('publishClientSend', `${CONTROL_TOPIC}`),
    allow('subscribeLiteral', `${CONTROL_TOPIC}/response`),
    allow('publishClientReceive', `${CONTROL_TOPIC}/response`),
  ];
}

const roleOf = (identity: BrokerIdentity) =>
  identity.role === 'device' ? `bpfleet-device-${identity.deviceId}` : `bpfleet-controller-${identity.fleet}`;

/** The plugin's initial config file (`plugin_opt_config_file`); the plugin rewrites it on every change. */
export function renderDynsecConfig(
  fleet: string,
  credentials: ReadonlyArray<{ identity: BrokerIdentity; secret: string }>,
): string {
  const clients: DynsecClient[] = credentials.map(({ identity, secret }) => ({
    username: usernameOf(identity),
    ...(identity.role === 'device' ? { clientid: identity.deviceId } : {}),
    ...hashed(secret),
    roles: [{ rolename: roleOf(identity) }],
  }));
  const roles = credentials.map(({ identity }) => ({
    rolename: roleOf(identity),
    acls:
      identity.role === 'device'
        ? deviceAcls(fleet, identity.deviceId, identity.groups)
        : controllerAcls(fleet),
  }));
  return JSON.stringify(
    {
      clients,
      groups: [],
      roles,
      defaultACLAccess: {
        publishClientSend: false,
        publishClientReceive: false,
        subscribe: false,
        unsubscribe: true,
      },
    },
    null,
    2,
  );
}

export class DynsecError extends BpfleetError {}

/** Commands to a running plugin over MQTT, sent on the controller's own connection. */
export interface DynsecAdmin {
  /** Refuses new logins of device `username`, takes its role (so a certificate login reaches nothing) and closes its live session. */
  disableClient(username: string): Promise<void>;
  /** Gives a disabled device its role back and lets it log in again. */
  enableClient(username: string): Promise<void>;
  /** Removes `username` and its role; the plugin closes its live session. */
  deleteDevice(deviceId: string): Promise<void>;
  createDevice(fleet: string, deviceId: string, groups: readonly string[], secret: string): Promise<void>;
}

export function createDynsecAdmin(client: MqttClient, timeoutMs = 5000): DynsecAdmin {
  let subscribed: Promise<unknown> | undefined;
  async function send(commands: Array<Record<string, unknown>>): Promise<void> {
    subscribed ??= client.subscribeAsync(`${CONTROL_TOPIC}/response`, { qos: 1 });
    await subscribed;
    const names = commands.map((c) => c.command as string);
    const response = new Promise<Array<{ command: string; error?: string }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('message', onMessage);
        reject(
          new DynsecError('DYNSEC_TIMEOUT', `dynsec ${names.join(', ')}: no response in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      function onMessage(topic: string, payload: Buffer) {
        if (topic !== `${CONTROL_TOPIC}/response`) return;
        const answer = JSON.parse(payload.toString()) as {
          responses: Array<{ command: string; error?: string }>;
        };
        if (answer.responses[0]?.command !== names[0]) return;
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve(answer.responses);
      }
      client.on('message', onMessage);
    });
    await client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands }), { qos: 1 });
    const errors = (await response).filter((r) => r.error && !/not found/i.test(r.error));
    if (errors.length > 0) {
      throw new DynsecError(
        'DYNSEC_REFUSED',
        `dynsec: ${errors.map((e) => `${e.command}: ${e.error}`).join('; ')}`,
      );
    }
  }
  return {
    // A disabled client loses its role too: with `use_identity_as_username` a certificate logs in without the
    // password check disableClient guards, and only an empty role leaves it no topic.
    disableClient: (username) =>
      send([
        { command: 'removeClientRole', username, rolename: `bpfleet-device-${username}` },
        { command: 'disableClient', username },
      ]),
    enableClient: (username) =>
      send([
        { command: 'addClientRole', username, rolename: `bpfleet-device-${username}` },
        { command: 'enableClient', username },
      ]),
    deleteDevice: (deviceId) =>
      send([
        { command: 'deleteClient', username: deviceId },
        { command: 'deleteRole', rolename: `bpfleet-device-${deviceId}` },
      ]),
    createDevice: (fleet, deviceId, groups, secret) =>
      send([
        {
          command: 'createRole',
          rolename: `bpfleet-device-${deviceId}`,
          acls: deviceAcls(fleet, deviceId, groups),
        },
        {
          command: 'createClient',
          username: deviceId,
          clientid: deviceId,
          password: secret,
          roles: [{ rolename: `bpfleet-device-${deviceId}` }],
        },
      ]),
  };
}
