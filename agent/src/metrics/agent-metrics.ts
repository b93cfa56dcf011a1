// The agent's Prometheus metrics: its own counters and the programs' map-backed metrics.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ProgramMetric } from '../ports.js';
import type { EventState } from '../reporting/report.js';

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly reconciles = new Counter({
    name: 'bpfleet_agent_reconciles_total',
    help: 'Reconcile passes, by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly events = new Counter({
    name: 'bpfleet_agent_events_total',
    help: 'Deployment events, by state',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly drifts = new Counter({
    name: 'bpfleet_agent_drift_total',
    help: 'Times the kernel no longer held what a deployment attached (pin gone, detached, replaced, target gone)',
    labelNames: ['deployment', 'code'],
    registers: [this.registry],
  });
  private readonly policyRejections = new Counter({
    name: 'bpfleet_agent_policy_rejections_total',
    help: 'Policies refused, by reason code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly deployments = new Gauge({
    name: 'bpfleet_agent_deployments',
    help: 'Deployments running',
    registers: [this.registry],
  });
  private readonly connected = new Gauge({
    name: 'bpfleet_agent_mqtt_connected',
    help: '1 while the MQTT session is up',
    registers: [this.registry],
  });
  private readonly program = new Gauge({
    name: 'bpfleet_program_metric',
    help: 'Values of the maps that program manifests mark as metrics',
    labelNames: ['deployment', 'map', 'metric', 'key'],
    registers: [this.registry],
  });

  reconciled(ok: boolean): void {
    this.reconciles.inc({ result: ok ? 'ok' : 'error' });
  }

  event(state: EventState): void {
    this.events.inc({ state });
  }

  drift(deployment: string, code = 'DRIFT'): void {
    this.drifts.inc({ deployment, code });
  }

  policyRejected(code: string): void {
    this.policyRejections.inc({ code });
  }

  setDeployments(n: number): void {
    this.deployments.set(n);
  }

  setConnected(up: boolean): void {
    this.connected.set(up ? 1 : 0);
  }

  /** Replaces all program values, so metrics of removed deployments disappear. */
  setProgramMetrics(metrics: ProgramMetric[]): void {
    this.program.reset();
    for (const m of metrics) {
      this.program.set({ deployment: m.deployment, map: m.map, metric: m.name, key: m.key }, m.value);
    }
  }
}
