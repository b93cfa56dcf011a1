// Event streams: a ring buffer map declared with its record layout and the map where the program counts drops.
import { ManifestError } from '../errors.js';
import { DESCRIPTION, FieldReader, IDENTIFIER, joinPath } from './field-reader.js';
import { isScalarLayout, parseFieldLayout } from './map-layout.js';
import type { FieldLayout, MapDecl } from './types.js';
import { INTEGER_TYPES } from './types.js';

/**
 * `maps.<ring>.events`: the agent drains the ring buffer and delivers each record decoded by `record`.
 * The kernel does not count what a full ring refuses (`bpf_ringbuf_reserve` returns NULL and the producer
 * position does not move), so the program counts its own failed reserves in `lostCounter`: a declared map
 * whose scalar integer values, summed over every entry and CPU, are the records the ring refused.
 */
export interface EventStreamDecl {
  /** The layout of one record: every sample must be exactly its size. */
  record: FieldLayout;
  /** The map the program increments when `bpf_ringbuf_reserve` fails (array or per-CPU array of u64). */
  lostCounter?: string;
  description?: string;
}

/** Fields a ring buffer's declaration cannot have: it has no keys or values to lay out, write or export. */
const NOT_WITH_EVENTS = ['layout', 'entries', 'derive', 'metrics', 'persist'] as const;

export function parseEventStream(value: unknown, path: string, decl: MapDecl): EventStreamDecl {
  for (const field of NOT_WITH_EVENTS) {
    if (decl[field] !== undefined) {
      throw new ManifestError(
        'CONFLICT',
        joinPath(path, field),
        `an event stream (ring buffer) has no ${field}; describe its records in events.record`,
      );
    }
  }
  const at = joinPath(path, 'events');
  const reader = new FieldReader(value, at, {
    required: ['record'],
    optional: ['lostCounter', 'description'],
  });
  const stream: EventStreamDecl = { record: parseFieldLayout(reader.get('record'), reader.at('record')) };
  if (reader.has('lostCounter')) stream.lostCounter = reader.string('lostCounter', IDENTIFIER);
  if (reader.has('description')) stream.description = reader.string('description', DESCRIPTION);
  return stream;
}

/** Each stream's `lostCounter` names another declared map whose value layout is one integer. */
export function checkEventStreams(maps: { [name: string]: MapDecl }, path: string): void {
  for (const [name, decl] of Object.entries(maps)) {
    const counter = decl.events?.lostCounter;
    if (counter === undefined) continue;
    const at = `${joinPath(joinPath(path, name), 'events')}.lostCounter`;
    const target = maps[counter];
    if (counter === name || !target) {
      throw new ManifestError('UNKNOWN_REFERENCE', at, `no counter map ${JSON.stringify(counter)} in maps`);
    }
    const value = target.layout?.value;
    const integer =
      value !== undefined &&
      isScalarLayout(value) &&
      typeof value === 'string' &&
      (INTEGER_TYPES as readonly string[]).includes(value);
    if (!integer) {
      throw new ManifestError(
        'FIELD_TYPE',
        at,
        `map ${counter} must declare a layout whose value is one integer (e.g. "value": "u64")`,
      );
    }
  }
}
