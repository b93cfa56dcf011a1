// Disabling and enabling a device (admin): stored first, then the broker refuses its logins and closes its session.
import type { Context } from 'hono';
import type { FleetDeps } from '../fleet/fleet-deps.js';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { json } from './schemas.js';

const idParam = (c: Context<AppEnv>) => (c.req.param() as { id: string }).id;

export function deviceStateRoutes(deps: FleetDeps): RouteSpec[] {
  return (['disable', 'enable'] as const).map((action) =>
    defineRoute({
      tag: 'fleet',
      access: 'admin',
      method: 'post',
      path: `/v1/fleet/devices/:id/${action}`,
      operationId: `${action}Device`,
      summary:
        action === 'disable'
          ? 'Disable a device: its live MQTT session is closed at once and its logins refused until enabled'
          : 'Enable a disabled device: its logins are accepted again',
      params: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } },
      responses: {
        409: { description: 'The broker is external and its logins are not managed by the edge' },
        200: {
          description: 'The device and its state',
          content: json({ type: 'object', properties: {}, additionalProperties: true }),
        },
        404: { description: 'Not registered' },
      },
      handler: async (c) => {
        const id = idParam(c);
        if (!deps.brokerLogins) {
          // Storing DISABLED would claim a shut-out the broker never applies.
          throw httpError(
            'BROKER_UNMANAGED',
            `device ${id}: the external broker's logins are not managed by this edge; start it with --broker-dynsec (mosquitto) or change the login in the broker itself`,
          );
        }
        // The store first: the embedded broker's login check reads it, so a kicked device cannot log back in.
        const device = deps.store.setDisabled(id, action === 'disable');
        if (!device) throw httpError('DEVICE_NOT_FOUND', `device ${id}: not registered`);
        try {
          await (action === 'disable' ? deps.brokerLogins.disable(id) : deps.brokerLogins.enable(id));
        } catch (err) {
          // The broker did not take the change: the stored state must not claim it did.
          deps.store.setDisabled(id, action !== 'disable');
          throw err;
        }
        return c.json({ id, state: device.disabled ? 'DISABLED' : 'ENABLED' });
      },
    }),
  );
}
