// Event stream declarations: what parses, and the field path and code of each bad one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError } from '../errors.js';
import { parseManifest } from './parse-manifest.js';

function manifest(maps: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'a/b',
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'f' }],
    requires: { arches: ['x86'] },
    maps,
  };
}

const record = { pid: 'u32', tag: 'u32', comm: { type: 'bytes', size: 16 } };
const lost = { layout: { key: 'u32', value: 'u64' } };

function expectError(maps: Record<string, unknown>, code: string, path: string): void {
  assert.throws(
    () => parseManifest(manifest(maps)),
    (err: unknown) => {
      assert.ok(err instanceof ManifestError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.path, path, err.message);
      return true;
    },
  );
}

test('a ring buffer declared as an event stream keeps its record layout and drop counter', () => {
  const m = parseManifest(manifest({ events: { events: { record, lostCounter: 'lost' } }, lost }));
  assert.deepEqual(m.maps?.events?.events, { record, lostCounter: 'lost' });
});

test('an event stream without a record, or with map-only fields, is refused at its path', () => {
  expectError({ events: { events: {} } }, 'MISSING_FIELD', 'maps.events.events.record');
  expectError({ events: { events: { record, extra: 1 } } }, 'UNKNOWN_FIELD', 'maps.events.events.extra');
  expectError({ events: { events: { record: 'float' } } }, 'INVALID_VALUE', 'maps.events.events.record');
  expectError(
    { events: { layout: { key: 'u32', value: 'u32' }, events: { record } } },
    'CONFLICT',
    'maps.events.layout',
  );
  expectError({ events: { persist: true, events: { record } } }, 'CONFLICT', 'maps.events.persist');
});

test('the drop counter must be another declared map holding one integer', () => {
  const at = 'maps.events.events.lostCounter';
  expectError({ events: { events: { record, lostCounter: 'nope' } } }, 'UNKNOWN_REFERENCE', at);
  expectError({ events: { events: { record, lostCounter: 'events' } } }, 'UNKNOWN_REFERENCE', at);
  expectError({ events: { events: { record, lostCounter: 'lost' } }, lost: {} }, 'FIELD_TYPE', at);
  expectError(
    {
      events: { events: { record, lostCounter: 'lost' } },
      lost: { layout: { key: 'u32', value: { n: 'u64' } } },
    },
    'FIELD_TYPE',
    at,
  );
});
