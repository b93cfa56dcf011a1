// A device's telemetry over time: each series' points since a time, at a step, from the history store. Admin only.
import type { Context } from 'hono';
import type { FleetDeps } from '../fleet/fleet-deps.js';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import type { JsonSchema } from '../openapi/json-schema.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { json } from './schemas.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = '^[1-9][0-9]{0,5}[smhd]$';

function durationMs(text: string): number {
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1)]!;
}

/** `since` is a duration back from now (`30m`) or an RFC 3339 time. */
function sinceDate(text: string | undefined, now: Date): Date {
  if (text === undefined) return new Date(now.getTime() - UNIT_MS.h!);
  if (new RegExp(DURATION).test(text)) return new Date(now.getTime() - durationMs(text));
  const at = Date.parse(text);
  if (Number.isNaN(at)) {
    throw httpError(
      'INVALID_PARAMETER',
      `since: ${text} is neither a duration (30m, 6h, 7d) nor an RFC 3339 time`,
    );
  }
  return new Date(at);
}

const point: JsonSchema = {
  type: 'object',
  required: ['at', 'samples', 'avg', 'min', 'max', 'last'],
  properties: {
    at: { type: 'string', format: 'date-time' },
    samples: { type: 'integer' },
    avg: { type: 'number' },
    min: { type: 'number' },
    max: { type: 'number' },
    last: { type: 'number' },
    rate: { type: 'number', description: 'Counters: increase per second over the time the samples cover' },
  },
  additionalProperties: false,
};

const series: JsonSchema = {
  type: 'object',
  required: ['deployment', 'map', 'name', 'key', 'counter', 'points'],
  properties: {
    deployment: { type: 'string' },
    map: { type: 'string' },
    name: { type: 'string' },
    key: { type: 'string' },
    counter: { type: 'boolean' },
    points: { type: 'array', items: point },
  },
  additionalProperties: false,
};

export function telemetryHistoryRoutes(deps: FleetDeps): RouteSpec[] {
  return [
    defineRoute({
      tag: 'fleet',
      access: 'admin',
      method: 'get',
      path: '/v1/fleet/devices/:id/metrics',
      operationId: 'deviceMetricHistory',
      summary:
        "A device's telemetry over time: raw samples for an hour, 1-minute points for a day, 10-minute points for a week",
      params: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } },
      query: {
        name: {
          type: 'string',
          pattern: '^[A-Za-z_:][A-Za-z0-9_:]{0,199}$',
          description: 'Only this metric',
        },
        since: {
          type: 'string',
          maxLength: 40,
          description: 'A duration back from now (90s, 30m, 6h, 7d) or an RFC 3339 time; default 1h',
        },
        step: {
          type: 'string',
          pattern: DURATION,
          description: 'Point width (1m, 1h); default and minimum: the finest stored tier covering `since`',
        },
      },
      responses: {
        200: {
          description: 'Series of points, oldest first',
          content: json({
            type: 'object',
            required: ['device', 'since', 'stepSeconds', 'series', 'droppedSeries'],
            properties: {
              device: { type: 'string' },
              since: { type: 'string', format: 'date-time' },
              stepSeconds: { type: 'number', description: '0: raw samples as they came' },
              series: { type: 'array', items: series },
              droppedSeries: {
                type: 'integer',
                description:
                  'Samples refused since the edge started: the device had more series than the bound',
              },
            },
            additionalProperties: false,
          }),
        },
        400: { description: 'Invalid since or step' },
        404: { description: 'Not registered' },
      },
      handler: (c: Context<AppEnv>) => {
        const id = (c.req.param() as { id: string }).id;
        if (!deps.store.getDevice(id)) throw httpError('DEVICE_NOT_FOUND', `device ${id}: not registered`);
        const now = new Date();
        const since = sinceDate(c.req.query('since'), now);
        const step = c.req.query('step');
        const name = c.req.query('name');
        const result = deps.telemetryHistory?.query(
          id,
          { since, ...(name && { name }), ...(step && { stepMs: durationMs(step) }) },
          now,
        ) ?? { stepMs: 0, series: [], droppedSeries: 0 };
        return c.json({
          device: id,
          since: since.toISOString(),
          stepSeconds: result.stepMs / 1000,
          series: result.series,
          droppedSeries: result.droppedSeries,
        });
      },
    }),
  ];
}
