// The FleetStore contract, run against the SQLite implementation (in memory and on disk).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ReportedState } from '@bpfleet/sdk/protocol';
import Database from 'better-sqlite3';
import type { FleetStore } from './fleet-store.js';
import { createSqliteFleetStore } from './sqlite-fleet-store.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfleet-fleet-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const implementations: Record<string, () => FleetStore> = {
  'sqlite in memory': () => createSqliteFleetStore(new Database(':memory:')),
  'sqlite on disk': () => {
    const db = new Database(join(dir, `fleet-${Math.random()}.db`));
    db.pragma('journal_mode = WAL');
    return createSqliteFleetStore(db);
  },
};

const t0 = new Date('2026-11-27T10:00:00Z');
const reported = (version: string, status: 'ATTACHED' | 'FAILED'): ReportedState => ({
  device: 'd1',
  fleet: 'acme',
  time: t0.toISOString(),
  policies: {},
  policyErrors: {},
  programs: [{ id: 'fw', package: 'acme/fw', wanted: '^1', source: 's', status, version }],
});

for (const [name, create] of Object.entries(implementations)) {
  describe(`FleetStore contract (${name})`, () => {
    test('registers devices once and updates them', () => {
      const store = create();
      const d = store.registerDevice('d1', ['gw'], 'sha256:x', t0);
      assert.deepEqual(d, {
        id: 'd1',
        groups: ['gw'],
        secretHash: 'sha256:x',
        registeredAt: t0.toISOString(),
        presence: 'unknown',
        lastSeen: null,
        reported: null,
        telemetry: null,
        disabled: false,
      });
      assert.throws(() => store.registerDevice('d1', [], 'h', t0), { code: 'DEVICE_EXISTS' });
      assert.equal(store.setDisabled('d1', true)?.disabled, true);
      assert.deepEqual(
        store.listDevices({ status: 'disabled' }).map((x) => x.id),
        ['d1'],
      );
      assert.equal(store.setDisabled('d1', false)?.disabled, false);
      assert.equal(store.setDisabled('nope', true), undefined);
      assert.deepEqual(store.updateDevice('d1', { groups: ['gw', 'eu'] }).groups, ['gw', 'eu']);
      assert.throws(() => store.updateDevice('nope', {}), { code: 'DEVICE_NOT_FOUND' });
      assert.equal(store.removeDevice('d1'), true);
      assert.equal(store.getDevice('d1'), undefined);
    });

    test('keeps presence, reported state and filters on them', () => {
      const store = create();
      store.registerDevice('d1', ['gw'], 'h', t0);
      store.registerDevice('d2', ['phones'], 'h', t0);
      store.recordPresence('d1', 'online', t0);
      store.recordReported('d1', reported('1.2.0', 'ATTACHED'), t0);
      store.recordReported('d2', { ...reported('1.1.0', 'FAILED'), device: 'd2' }, t0);
      assert.equal(store.getDevice('d1')?.presence, 'online');
      assert.deepEqual(store.getDevice('d1')?.reported, reported('1.2.0', 'ATTACHED'));
      const ids = (f: Parameters<FleetStore['listDevices']>[0]) => store.listDevices(f).map((d) => d.id);
      assert.deepEqual(ids({}), ['d1', 'd2']);
      assert.deepEqual(ids({ group: 'gw' }), ['d1']);
      assert.deepEqual(ids({ status: 'failed' }), ['d2']);
      assert.deepEqual(ids({ status: 'online' }), ['d1']);
      assert.deepEqual(ids({ package: 'acme/fw@1.2.0' }), ['d1']);
      assert.deepEqual(ids({ package: 'acme/fw' }), ['d1', 'd2']);
      const telemetry = {
        time: 't',
        metrics: [{ deployment: 'fw', map: 'm', name: 'n', key: 'k', value: 3 }],
      };
      store.recordTelemetry('d1', telemetry, t0);
      assert.deepEqual(store.getDevice('d1')?.telemetry, telemetry);
    });

    test('keeps a bounded, newest-first event history', () => {
      const store = create();
      store.registerDevice('d1', [], 'h', t0);
      for (let i = 0; i < 510; i++) store.recordEvent('d1', { time: String(i), state: 'QUEUED' }, t0);
      const events = store.events('d1', 1000);
      assert.equal(events.length, 500);
      assert.equal(events[0]?.event.time, '509');
      assert.equal(events.at(-1)?.event.time, '10');
    });
  });
}
