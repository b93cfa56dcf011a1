// The edge's program events of one device (GET /v1/fleet/devices/:id/program-events), for `bpfleet fleet events`.
import type { EventLosses, EventRecord } from '../protocol/program-events.js';
import type { RegistryClient } from './registry-client.js';

export interface ProgramEventView {
  receivedAt: string;
  deployment: string;
  package: string;
  version: string;
  stream: string;
  number: number;
  record: EventRecord;
}

export interface StreamTotalsView {
  deployment: string;
  package: string;
  version: string;
  stream: string;
  received: number;
  lost: EventLosses;
  lastAt: string;
}

export interface ProgramEventsQuery {
  program?: string;
  stream?: string;
  limit?: number;
}

export function deviceProgramEvents(
  http: RegistryClient,
  id: string,
  query: ProgramEventsQuery = {},
): Promise<{ events: ProgramEventView[]; streams: StreamTotalsView[] }> {
  const params = new URLSearchParams();
  if (query.program) params.set('program', query.program);
  if (query.stream) params.set('stream', query.stream);
  params.set('limit', String(query.limit ?? 50));
  return http.requestJson(
    `device ${id} program events`,
    'GET',
    `/v1/fleet/devices/${encodeURIComponent(id)}/program-events?${params}`,
  );
}
