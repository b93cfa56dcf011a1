// Which version a crashed deployment runs, from the program ids its pinned links run: forward, back or neither.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment } from '../ports.js';
import { recoverVersion } from './adopt-recovery.js';
import type { VersionMeta } from './deployment-meta.js';

const version = (v: string, programIds: Record<string, number>): VersionMeta => ({
  deployment: { version: v } as Deployment,
  programIds,
  maps: {},
});
const v1 = version('1', { xdp: 10 });
const v2 = version('2', { xdp: 20, tcx: 21 });
const upgrading = { phase: 'upgrading' as const, current: v2, previous: v1 };
const pins = (entries: Record<string, number>) => new Map(Object.entries(entries));

test('every program of the new version pinned and running: forward, pins of no program of it removed', () => {
  assert.deepEqual(recoverVersion(upgrading, pins({ xdp: 20, tcx: 21 })), { version: v2, extra: [] });
  const back = { phase: 'upgrading' as const, current: v1, previous: v2 };
  assert.deepEqual(recoverVersion(back, pins({ xdp: 10, tcx: 21 })), { version: v1, extra: ['tcx'] });
});

test('the new version incomplete (added link pinned, swap not done): back, the added link removed', () => {
  assert.deepEqual(recoverVersion(upgrading, pins({ xdp: 10, tcx: 21 })), { version: v1, extra: ['tcx'] });
});

test('neither version runs (a link unreadable, a program replaced): nothing to adopt', () => {
  assert.equal(recoverVersion(upgrading, pins({ xdp: -1, tcx: 21 })), undefined);
  assert.equal(recoverVersion(upgrading, pins({ xdp: 99 })), undefined);
  assert.equal(recoverVersion({ phase: 'attaching', current: v2 }, pins({ xdp: 20 })), undefined);
});
