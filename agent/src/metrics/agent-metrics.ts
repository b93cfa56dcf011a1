// The agent's Prometheus metrics: its own counters and the programs' map-backed metrics.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ProgramMetric } from '../ports.js';
import type { EventState } from '../reporting/report.js';
import { renderProgramMetrics } from './program-exposition.js';

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
  private program: ProgramMetric[] = [];
  private readonly skippedPrograms = new Counter({
    name: 'bpfleet_agent_program_metrics_skipped_total',
    help: 'Program metric samples left out of a scrape: the name is one the agent uses, or another type elsewhere',
    labelNames: ['deployment', 'name'],
    registers: [this.registry],
  });
  readonly contentType = this.registry.contentType;

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
    this.program = metrics;
  }

  /** The whole scrape: the agent's own metrics, then each program metric under the manifest's name. */
  async metrics(): Promise<string> {
    const own = await this.registry.getMetricsAsJSON();
    const taken = new Set(own.map((m) => m.name));
    const programs = renderProgramMetrics(this.program, taken, (m) =>
      this.skippedPrograms.inc({ deployment: m.deployment, name: m.name }),
    );
    return (await this.registry.metrics()) + programs;
  }
}
