// A FleetStore that also keeps each telemetry report in the history store (and forgets a removed device's history).
import type { FleetStore } from '../fleet-store.js';
import type { TelemetryHistoryStore } from './telemetry-history-store.js';

export function withTelemetryHistory(store: FleetStore, history: TelemetryHistoryStore): FleetStore {
  return {
    ...store,
    recordTelemetry(id, telemetry, now) {
      store.recordTelemetry(id, telemetry, now);
      history.record(id, telemetry, now);
    },
    removeDevice(id) {
      history.removeDevice(id);
      return store.removeDevice(id);
    },
  };
}
