// A running device: MQTT session, policy store, reconcile loop, reports, telemetry and state file, wired together.
import { errorMessage } from '@bpfleet/sdk/errors';
import { matchSelector, type ProbeType } from '@bpfleet/sdk/policy';
import type { DeviceInventory } from '@bpfleet/sdk/protocol';
import { Agent, type AgentPorts } from './agent.js';
import { backoffDelay } from './backoff.js';
import type { AgentConfig } from './config/agent-config.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics/agent-metrics.js';
import { MqttSession } from './mqtt/mqtt-session.js';
import { deviceTopics } from './mqtt/topics.js';
import { ExpiryWatch } from './policy/expiry-watch.js';
import {
  type AcceptedPolicy,
  type ExpiredPolicy,
  PolicyStore,
  type PolicyVerifier,
} from './policy/policy-store.js';
import type { IndexSource } from './ports.js';
import type { FailureMark } from './reconcile/failure-marks.js';
import type { AgentEvent, EventState, ProgramReport, Reason, ReportedState } from './reporting/report.js';
import type { StateFile } from './state/state-file.js';

/** Event states an operator should see at warn level in the journal. */
const WARN_STATES = new Set<EventState>(['FAILED', 'REJECTED', 'ROLLED_BACK', 'DRIFTED', 'POLICY_EXPIRED']);
export interface AgentState {
  version: 1;
  policies: Record<string, AcceptedPolicy>;
  /** Deploy failures remembered (see reconcile/failure-marks.ts); older files' marks are dropped on load. */
  failed: Record<string, FailureMark>;
  indexSerial: number;
}

export function initialAgentState(): AgentState {
  return { version: 1, policies: {}, failed: {}, indexSerial: 0 };
}

export interface DeviceAgentOptions {
  config: AgentConfig;
  ports: Omit<AgentPorts, 'policies' | 'index'>;
  /** Built once the state is loaded, so the index knows the highest serial seen before. */
  createIndex: (lastSerial: number, onSerial: (serial: number) => void) => IndexSource;
  verifyPolicy: PolicyVerifier;
  state: StateFile<AgentState>;
  metrics: AgentMetrics;
  logger: Logger;
  now?: () => Date;
  /** What the device is, reported with its state; policies' `target.where` are judged against it. */
  inventory?: DeviceInventory;
  /** Answers a selector's program or attach type the inventory has not probed. */
  probeType?: ProbeType;
  /** Frees what the wiring opened for this device (its registry connection) once it stopped. */
  release?: () => void;
  /** Fleet topics beside the policies (the root-of-trust announcement): topic → handler. */
  sideTopics?: Record<string, (payload: Buffer) => void>;
}

export class DeviceAgent {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly policyErrors: Record<string, Reason> = {};
  private saving: Promise<void> = Promise.resolve();
  private lastReported = '';
  private programs: ProgramReport[] = [];
  private retries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private expiry: ExpiryWatch | undefined;
  private stopped = false;

  private constructor(
    private readonly o: DeviceAgentOptions,
    private readonly state: AgentState,
    readonly policies: PolicyStore,
    readonly agent: Agent,
    readonly session: MqttSession,
  ) {}

  static async start(o: DeviceAgentOptions): Promise<DeviceAgent> {
    const { config, logger } = o;
    const now = o.now ?? (() => new Date());
    const state = await o.state.load();
    const topics = deviceTopics(config.fleet, config.deviceId);
    const policies = new PolicyStore({
      deviceId: config.deviceId,
      fleet: config.fleet,
      groups: config.groups,
      deviceTopic: topics.device,
      groupTopic: topics.group,
      verify: o.verifyPolicy,
      now,
      accepted: state.policies,
      ...(o.inventory && {
        judge: (where) => matchSelector(where, o.inventory!, o.probeType),
      }),
    });
    // The session and agent call back into `self`, which exists once the constructor ran.
    let self: DeviceAgent | undefined;
    const index = o.createIndex(state.indexSerial, (serial) => {
      state.indexSerial = serial;
      self?.save();
    });
    const agent = new Agent({
      ...o.ports,
      policies,
      index,
      logger,
      allow: config.allow,
      failed: state.failed,
      now,
      onMarksChanged: async (failed) => {
        state.failed = failed;
        await self?.save();
      },
      onEvent: (s, fields) => self?.event({ time: now().toISOString(), state: s, ...fields }),
      onReport: (programs) => self?.report(programs),
    });
    const session = new MqttSession({
      url: config.broker.url,
      clientId: config.deviceId,
      ...(config.broker.username !== undefined && { username: config.broker.username }),
      ...(config.broker.password !== undefined && { password: config.broker.password }),
      ...(config.broker.ca !== undefined && { ca: config.broker.ca }),
      ...(config.broker.cert !== undefined && { cert: config.broker.cert }),
      ...(config.broker.key !== undefined && { key: config.broker.key }),
      keepaliveSeconds: config.broker.keepaliveSeconds,
      presenceTopic: topics.presence,
      subscriptions: [...policies.topics(), ...Object.keys(o.sideTopics ?? {})],
      backoff: { initialMs: 500, maxMs: 60_000 },
      logger,
      onMessage: (topic, payload) => {
        const side = o.sideTopics && Object.hasOwn(o.sideTopics, topic) ? o.sideTopics[topic] : undefined;
        if (side) side(payload);
        else void self?.onPolicy(topic, payload);
      },
      onDisconnect: () => o.metrics.setConnected(false),
      onConnect: () => {
        o.metrics.setConnected(true);
        if (!self) return;
        self.lastReported = '';
        self.kick();
      },
    });
    self = new DeviceAgent(o, state, policies, agent, session);
    session.start();
    self.expiry = new ExpiryWatch({
      policies,
      now,
      onExpired: (expired) => self?.policyExpired(expired),
      onChange: () => self?.kick(),
    });
    // A stored policy that expired while the agent was down is reported now, like one that expires while it runs.
    self.expiry.refresh();
    self.kick();
    self.timers.push(setInterval(() => self?.kick(), config.reconcileIntervalSeconds * 1000));
    self.timers.push(setInterval(() => void self?.telemetry(), config.telemetryIntervalSeconds * 1000));
    // The kernel is the observer: what was attached is checked on its own short timer, between passes.
    self.timers.push(setInterval(() => self?.checkDrift(), config.driftCheckIntervalSeconds * 1000));
    return self;
  }

  /** A reconcile pass; returns when it (or the pass it joined) is done. */
  reconcile(): Promise<void> {
    return this.agent.reconcile().then(
      () => {
        this.o.metrics.reconciled(true);
        this.retryIfTransient();
      },
      (err: unknown) => {
        this.o.metrics.reconciled(false);
        this.o.logger.error('reconcile failed', { error: errorMessage(err) });
      },
    );
  }

  /**
   * A pass that a passing failure cut short (registry busy or away, download interrupted) is tried again with
   * backoff, up to the reconcile interval, rather than only at the next periodic pass.
   */
  private retryIfTransient(): void {
    if (!this.agent.retrySoon) {
      this.retries = 0;
      return;
    }
    if (this.retryTimer || this.stopped) return;
    const delay = backoffDelay(this.retries++, {
      initialMs: 1000,
      maxMs: this.o.config.reconcileIntervalSeconds * 1000,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.expiry?.stop();
    for (const t of this.timers) clearInterval(t);
    await this.agent.stop();
    await this.session.stop();
    await this.saving;
    this.o.release?.();
  }

  /** Stops without a goodbye, like a crash: no offline message, no last pass. For tests of the last will. */
  abort(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.expiry?.stop();
    for (const t of this.timers) clearInterval(t);
    this.session.abort();
    this.o.release?.();
  }

  private kick(): void {
    void this.reconcile();
  }

  private checkDrift(): void {
    this.agent.checkKernel().catch((err: unknown) => {
      this.o.logger.error('kernel check failed', { error: errorMessage(err) });
    });
  }

  private async onPolicy(topic: string, payload: Buffer): Promise<void> {
    const outcome = await this.policies.receive(topic, payload);
    if (outcome.kind === 'unchanged') return this.kick();
    if (outcome.kind === 'rejected') {
      const reason = { code: outcome.error.code, message: outcome.error.message };
      this.o.logger.warn('policy refused', { topic, ...reason });
      this.o.metrics.policyRejected(reason.code);
      this.policyErrors[topic] = reason;
      this.event({ time: new Date().toISOString(), state: 'REJECTED', policy: topic, reason });
      this.publishReported(true);
      return;
    }
    this.o.logger.info('policy accepted', { topic, serial: outcome.policy.serial });
    delete this.policyErrors[topic];
    this.state.policies = this.policies.snapshot();
    await this.save();
    this.expiry?.refresh();
    this.kick();
  }

  /** The policy's programs keep running (or go, onExpiry: remove); the edge sees why in policyErrors and an event. */
  private policyExpired(expired: ExpiredPolicy): void {
    const { topic, serial, reason } = expired;
    this.o.logger.warn('policy expired', { topic, serial, ...reason });
    this.policyErrors[topic] = reason;
    this.event({ time: new Date().toISOString(), state: 'POLICY_EXPIRED', policy: topic, reason });
    // No report of its own: at start-up it would show the edge no programs before the first pass adopted them;
    // the pass that follows (onChange) reports policyErrors with the programs.
  }

  /** A refusal that belongs to no policy (the trust root's): shown in policyErrors under `key` until cleared. */
  setError(key: string, reason: Reason | undefined): void {
    if (reason) this.policyErrors[key] = reason;
    else delete this.policyErrors[key];
    this.publishReported(true);
  }

  /** Publishes an event (also the trust root's refusals) and counts it. */
  event(event: AgentEvent): void {
    // Every state change in the journal too, with its ids and reason as fields (not inside the message).
    const { time: _time, reason, ...ids } = event;
    const fields = { ...ids, ...(reason ? { reason: reason.code, detail: reason.message } : {}) };
    if (WARN_STATES.has(event.state))
      this.o.logger.warn(`program ${event.state.toLowerCase().replace('_', ' ')}`, fields);
    else this.o.logger.info(`program ${event.state.toLowerCase().replace('_', ' ')}`, fields);
    this.o.metrics.event(event.state as EventState);
    if (event.state === 'DRIFTED' && event.deployment)
      this.o.metrics.drift(event.deployment, event.reason?.code);
    this.session.publish(
      deviceTopics(this.o.config.fleet, this.o.config.deviceId).events,
      JSON.stringify(event),
    );
  }

  private report(programs: ProgramReport[]): void {
    this.programs = programs;
    this.o.metrics.setDeployments(this.agent.deployments().length);
    this.publishReported(false);
  }

  private publishReported(force: boolean): void {
    const { config } = this.o;
    const policies = Object.fromEntries(
      Object.entries(this.policies.snapshot()).map(([topic, p]) => [topic, { serial: p.serial }]),
    );
    const policyErrors = { ...this.policyErrors };
    for (const { topic, serial, reasons } of this.policies.excluded()) {
      policyErrors[topic] = {
        code: 'TARGET_EXCLUDED',
        message: `policy ${topic} serial ${serial}: target.where leaves this device out: ${reasons.join('; ')}`,
      };
    }
    const body = {
      policies,
      policyErrors,
      programs: this.programs,
      ...(this.o.inventory && { inventory: this.o.inventory }),
    };
    const key = JSON.stringify(body);
    if (!force && key === this.lastReported) return;
    this.lastReported = key;
    const reported: ReportedState = {
      device: config.deviceId,
      fleet: config.fleet,
      time: new Date().toISOString(),
      ...body,
    };
    this.session.publish(
      deviceTopics(config.fleet, config.deviceId).reported,
      JSON.stringify(reported),
      true,
    );
  }

  private async telemetry(): Promise<void> {
    if (!this.session.connected) return;
    try {
      const metrics = await this.o.ports.loader.metrics();
      this.o.metrics.setProgramMetrics(metrics);
      const topic = deviceTopics(this.o.config.fleet, this.o.config.deviceId).telemetry;
      // Telemetry keeps its compact shape (a histogram as its count): buckets stay on the Prometheus endpoint.
      const compact = metrics.map(({ deployment, map, name, key, value }) => ({
        deployment,
        map,
        name,
        key,
        value,
      }));
      this.session.publish(topic, JSON.stringify({ time: new Date().toISOString(), metrics: compact }));
    } catch (err) {
      this.o.logger.warn('telemetry failed', { error: errorMessage(err) });
    }
  }

  /** Saves are chained so an older snapshot never overwrites a newer one. */
  private save(): Promise<void> {
    this.saving = this.saving
      .then(() => this.o.state.save(this.state))
      .catch((err: unknown) => this.o.logger.error('saving state failed', { error: errorMessage(err) }));
    return this.saving;
  }
}
