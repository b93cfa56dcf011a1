// The fleet API: devices (registration, status, history), signed policies, staged rollouts. Admin only.

import { type PolicyTarget, toPolicy } from '@bpfleet/sdk/policy';
import { isValidTopicName } from '@bpfleet/sdk/protocol';
import { checkWaves } from '@bpfleet/sdk/rollout';
import type { Context } from 'hono';
import type { FleetDeps } from '../fleet/fleet-deps.js';
import type { DeviceRecord } from '../fleet/fleet-store.js';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import type { JsonSchema } from '../openapi/json-schema.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { issueDeviceCredential } from './device-credential.js';
import { deviceStateRoutes } from './fleet-device-state.js';
import { programEventRoutes } from './program-event-routes.js';
import { telemetryHistoryRoutes } from './telemetry-history-routes.js';

/** A policy at its map-entry bound (sdk POLICY_LIMITS) is ~20 MB of JSON, a third more as base64. */
export const MAX_POLICY_BUNDLE_BYTES = 32 * 1024 * 1024;

import { json } from './schemas.js';

const topicName = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
} as const satisfies JsonSchema;
const object: JsonSchema = { type: 'object', properties: {}, additionalProperties: true };
const list: JsonSchema = { type: 'array', items: object };
const ok = (description: string, schema: JsonSchema = object) => ({ description, content: json(schema) });

function deviceView(d: DeviceRecord) {
  const programs = d.reported?.programs ?? [];
  return {
    id: d.id,
    groups: d.groups,
    presence: d.presence,
    state: d.disabled ? 'DISABLED' : 'ENABLED',
    lastSeen: d.lastSeen,
    programs: programs.map((p) => ({
      id: p.id,
      package: p.package,
      version: p.version ?? null,
      status: p.status,
      attach: p.attach ?? null,
      lastError: p.lastError ?? null,
    })),
    /** The serial of each policy topic the device has applied: desired (the edge's policies) vs reported. */
    policies: d.reported?.policies ?? {},
    policyErrors: d.reported?.policyErrors ?? {},
    inventory: d.reported?.inventory ?? null,
    telemetry: d.telemetry,
  };
}

function targetFromQuery(device: string | undefined, group: string | undefined): PolicyTarget {
  if ((device === undefined) === (group === undefined)) {
    throw httpError('INVALID_PARAMETER', 'target: give exactly one of ?device= and ?group=');
  }
  return device !== undefined ? { device } : { group: group! };
}

const idParam = (c: Context<AppEnv>) => (c.req.param() as { id: string }).id;

export function fleetRoutes(deps: FleetDeps): RouteSpec[] {
  const { store, policies, rollouts, planTarget } = deps;
  const base = { tag: 'fleet', access: 'admin' as const };
  return [
    ...deviceStateRoutes(deps),
    ...programEventRoutes(deps),
    ...telemetryHistoryRoutes(deps),
    defineRoute({
      ...base,
      method: 'post',
      path: '/v1/fleet/devices',
      operationId: 'registerDevice',
      summary:
        'Register a device and issue its broker credentials: a password (shown once), or with `publicKey` a client certificate from the edge device CA',
      body: {
        contentType: 'application/json',
        schema: {
          type: 'object',
          required: ['id'],
          properties: {
            id: topicName,
            groups: { type: 'array', items: topicName },
            publicKey: { type: 'string', maxLength: 4096 },
          },
          additionalProperties: false,
        },
      },
      responses: { 201: ok('Registered, with credentials'), 409: { description: 'Already registered' } },
      handler: async (c) => {
        const body = c.get('body') as { id: string; groups?: string[]; publicKey?: string };
        const { id, groups = [] } = body;
        const credential = await issueDeviceCredential(deps, id, body.publicKey);
        const device = store.registerDevice(id, groups, credential.credentialHash, new Date());
        try {
          await deps.brokerLogins?.add(id, groups, credential.brokerSecret);
        } catch (err) {
          // Registered on the edge but unknown to the broker is a device that can never connect: undo.
          store.removeDevice(id);
          throw err;
        }
        return c.json(
          {
            ...deviceView(device),
            fleet: deps.fleet,
            broker: { url: deps.brokerUrl, username: id, ...credential.answer },
          },
          201,
        );
      },
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/devices',
      operationId: 'listDevices',
      summary: 'Devices with what runs on them; filter by group, status (or presence) and package[@version]',
      query: { group: { type: 'string' }, status: { type: 'string' }, package: { type: 'string' } },
      responses: { 200: ok('Devices', list) },
      handler: (c) => {
        const { group, status, package: pkg } = c.req.query();
        return c.json(store.listDevices({ group, status, package: pkg }).map(deviceView));
      },
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/devices/:id',
      operationId: 'getDevice',
      summary: "One device's detail: registration, presence, reported state",
      params: { id: topicName },
      responses: { 200: ok('Device'), 404: { description: 'Not registered' } },
      handler: (c) => {
        const device = store.getDevice(idParam(c));
        if (!device) throw httpError('DEVICE_NOT_FOUND', `device ${idParam(c)}: not registered`);
        return c.json({
          ...deviceView(device),
          registeredAt: device.registeredAt,
          reported: device.reported,
        });
      },
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/devices/:id/events',
      operationId: 'deviceEvents',
      summary: "A device's event history, newest first",
      params: { id: topicName },
      query: { limit: { type: 'integer', minimum: 1, maximum: 500 } },
      responses: { 200: ok('Events', list) },
      handler: (c) => {
        const id = idParam(c);
        if (!store.getDevice(id)) throw httpError('DEVICE_NOT_FOUND', `device ${id}: not registered`);
        return c.json(store.events(id, Number(c.req.query('limit') ?? 100)));
      },
    }),
    defineRoute({
      ...base,
      method: 'delete',
      path: '/v1/fleet/devices/:id',
      operationId: 'removeDevice',
      summary: 'Forget a device; its broker credentials stop working and its live session is closed',
      params: { id: topicName },
      responses: { 204: { description: 'Removed' } },
      handler: async (c) => {
        const id = idParam(c);
        if (!store.removeDevice(id)) throw httpError('DEVICE_NOT_FOUND', `device ${id}: not registered`);
        deps.programEvents?.removeDevice(id);
        // After the store: the embedded broker's login check reads it, so the device cannot log straight back in.
        await deps.brokerLogins?.remove(id);
        return c.body(null, 204);
      },
    }),
    defineRoute({
      ...base,
      method: 'put',
      path: '/v1/fleet/policies',
      operationId: 'applyPolicy',
      summary:
        'Apply an operator-signed policy bundle: verified, checked against the registry, published retained',
      body: {
        contentType: 'application/json',
        schema: object,
        description: 'Sigstore bundle of the policy',
        // Map entries make policies large: 262,144 entries in all, base64 inside the DSSE envelope.
        maxBytes: MAX_POLICY_BUNDLE_BYTES,
      },
      responses: { 200: ok('Published'), 409: { description: 'Serial not above the current one' } },
      handler: async (c) => {
        const stored = await policies.apply(c.get('body'));
        const plan = await planTarget(stored.policy);
        return c.json({ target: stored.target, serial: stored.serial, policy: stored.policy, plan });
      },
    }),
    defineRoute({
      ...base,
      method: 'post',
      path: '/v1/fleet/policies/check',
      operationId: 'checkPolicy',
      summary:
        'A server-side dry run: every check `PUT /v1/fleet/policies` makes but the signatures (fleet, packages, versions, config, map entries, serial), and the devices it would reach; nothing is stored or published',
      body: { contentType: 'application/json', schema: object, maxBytes: MAX_POLICY_BUNDLE_BYTES },
      responses: { 200: ok('The policy would be accepted; the devices it reaches and leaves out') },
      handler: async (c) => {
        const policy = toPolicy(c.get('body'));
        await policies.check(policy);
        return c.json({ ok: true, plan: await planTarget(policy) });
      },
    }),
    defineRoute({
      ...base,
      method: 'post',
      path: '/v1/fleet/policies/plan',
      operationId: 'planPolicy',
      summary:
        "Which targeted devices a policy (unsigned is fine: nothing is published) would reach, and which its target.where or its packages' requires leave out, and why",
      body: { contentType: 'application/json', schema: object, maxBytes: MAX_POLICY_BUNDLE_BYTES },
      responses: { 200: ok('Included, excluded (with reasons) and unknown devices') },
      handler: async (c) => c.json(await planTarget(toPolicy(c.get('body')))),
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/policies',
      operationId: 'listPolicies',
      summary: 'The policy currently published for each target',
      responses: { 200: ok('Policies', list) },
      handler: (c) =>
        c.json(
          policies
            .list()
            .map((p) => ({ target: p.target, serial: p.serial, updatedAt: p.updatedAt, policy: p.policy })),
        ),
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/policies/current',
      operationId: 'currentPolicy',
      summary: "One target's current policy (or null) and the next serial to sign",
      query: { device: { type: 'string' }, group: { type: 'string' } },
      responses: { 200: ok('Current policy and next serial') },
      handler: (c) => {
        const target = targetFromQuery(c.req.query('device'), c.req.query('group'));
        const name = 'device' in target ? target.device : target.group;
        if (!isValidTopicName(name))
          throw httpError('INVALID_PARAMETER', `target: ${JSON.stringify(name)} is not a valid name`);
        const current = policies.current(target);
        return c.json({
          policy: current?.policy ?? null,
          serial: current?.serial ?? 0,
          nextSerial: policies.nextSerial(target),
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/fleet/edge-key',
      operationId: 'edgeKey',
      summary:
        "The edge's policy key, which devices list in trust.edgeKeys (it signs rollout waves, only within the operators' grants)",
      tag: 'fleet',
      access: 'public',
      responses: { 200: ok('Public key') },
      handler: (c) => c.json({ ...deps.edgeKey, fleet: deps.fleet }),
    }),
    defineRoute({
      ...base,
      method: 'post',
      path: '/v1/fleet/rollouts',
      operationId: 'startRollout',
      summary: 'Start a staged rollout of package@version to a group, in waves',
      body: {
        contentType: 'application/json',
        schema: {
          type: 'object',
          required: ['group', 'package', 'version'],
          properties: {
            group: topicName,
            package: { type: 'string' },
            version: { type: 'string' },
            waves: {
              description: 'cumulative: `10%` of the group or a device count reached by the end of each wave',
              type: 'array',
              items: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 1 }] },
            },
            waveTimeoutMs: { type: 'integer', minimum: 1000 },
            failureThreshold: { type: 'number', minimum: 0, maximum: 1 },
          },
          additionalProperties: false,
        },
      },
      responses: { 201: ok('Started') },
      handler: async (c) => {
        const body = c.get('body') as {
          group: string;
          package: string;
          version: string;
          waves?: Array<string | number>;
          waveTimeoutMs?: number;
          failureThreshold?: number;
        };
        const waves = checkWaves(body.waves ?? ['10%', '50%', '100%'], 'body.waves');
        const rollout = await rollouts.start({
          group: body.group,
          package: body.package,
          version: body.version,
          waves,
          waveTimeoutMs: body.waveTimeoutMs ?? 300_000,
          failureThreshold: body.failureThreshold ?? 0.1,
        });
        return c.json(rollout, 201);
      },
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/rollouts',
      operationId: 'listRollouts',
      summary: 'Rollouts, oldest first',
      responses: { 200: ok('Rollouts', list) },
      handler: (c) => c.json(rollouts.list()),
    }),
    defineRoute({
      ...base,
      method: 'get',
      path: '/v1/fleet/rollouts/:id',
      operationId: 'getRollout',
      summary: 'A rollout with its waves and per-device status',
      params: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
      responses: { 200: ok('Rollout') },
      handler: (c) => c.json(rollouts.get(idParam(c))),
    }),
    ...(['pause', 'resume', 'abort'] as const).map((action) =>
      defineRoute({
        ...base,
        method: 'post',
        path: `/v1/fleet/rollouts/:id/${action}`,
        operationId: `${action}Rollout`,
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} a rollout`,
        params: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
        responses: { 200: ok('Rollout') },
        handler: async (c) => {
          const id = idParam(c);
          const rollout =
            action === 'pause'
              ? rollouts.pause(id)
              : action === 'resume'
                ? await rollouts.resume(id)
                : await rollouts.abort(id);
          return c.json(rollout);
        },
      }),
    ),
  ];
}
