// A device's program events (records its event streams delivered) with the loss each stream reported. Admin only.
import type { Context } from 'hono';
import type { FleetDeps } from '../fleet/fleet-deps.js';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import type { JsonSchema } from '../openapi/json-schema.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { json } from './schemas.js';

const object: JsonSchema = { type: 'object', properties: {}, additionalProperties: true };
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$' } as const satisfies JsonSchema;

export function programEventRoutes(deps: FleetDeps): RouteSpec[] {
  return [
    defineRoute({
      tag: 'fleet',
      access: 'admin',
      method: 'get',
      path: '/v1/fleet/devices/:id/program-events',
      operationId: 'deviceProgramEvents',
      summary:
        "Records a device's event streams delivered, newest first, and each stream's delivered/lost totals",
      params: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } },
      query: { program: name, stream: name, limit: { type: 'integer', minimum: 1, maximum: 10000 } },
      responses: {
        200: {
          description: 'Events and stream totals',
          content: json({
            type: 'object',
            properties: {
              events: { type: 'array', items: object },
              streams: { type: 'array', items: object },
            },
            additionalProperties: false,
          }),
        },
        404: { description: 'Not registered' },
      },
      handler: (c: Context<AppEnv>) => {
        const id = (c.req.param() as { id: string }).id;
        if (!deps.store.getDevice(id)) throw httpError('DEVICE_NOT_FOUND', `device ${id}: not registered`);
        const store = deps.programEvents;
        if (!store) return c.json({ events: [], streams: [] });
        const limit = Number(c.req.query('limit') ?? 100);
        const program = c.req.query('program');
        const stream = c.req.query('stream');
        return c.json({
          events: store.list(id, { limit, ...(program && { program }), ...(stream && { stream }) }),
          streams: store.totals(id),
        });
      },
    }),
  ];
}
