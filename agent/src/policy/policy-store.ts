// Receives signed policies per topic: verifies, checks target, expiry and serial, keeps the accepted ones; tells which expired.
import { sha256Digest } from '@bpfleet/sdk/digest';
import { BpfleetError, errorMessage, PolicyError } from '@bpfleet/sdk/errors';
import {
  type MergedProgram,
  mergePolicies,
  type Policy,
  type PolicyExpired,
  policyExpired,
  type SelectorVerdict,
  type TargetSelector,
} from '@bpfleet/sdk/policy';
import type { PolicySource } from '../ports.js';

/** Checks a bundle's signature against the operator keys and returns the policy it carries. */
export type PolicyVerifier = (bundle: unknown, now: Date) => Promise<Policy>;

export interface AcceptedPolicy {
  serial: number;
  /** Digest of the payload as received, to tell a retained replay of the same policy from a conflict. */
  digest: string;
  policy: Policy;
}

/** An accepted policy whose expiry passed: still held (a newer serial must replace it), reported as expired. */
export interface ExpiredPolicy {
  topic: string;
  serial: number;
  reason: PolicyExpired;
}

/** A held policy whose `target.where` leaves this device out: it deploys nothing from it and says why. */
export interface ExcludedPolicy {
  topic: string;
  serial: number;
  reasons: string[];
}

export type PolicyOutcome =
  | { kind: 'accepted'; topic: string; policy: Policy }
  | { kind: 'unchanged'; topic: string }
  | { kind: 'rejected'; topic: string; error: BpfleetError };

export interface PolicyStoreOptions {
  deviceId: string;
  fleet: string;
  groups: string[];
  deviceTopic: string;
  groupTopic: (group: string) => string;
  verify: PolicyVerifier;
  now?: () => Date;
  accepted?: Record<string, AcceptedPolicy>;
  /** Judges a policy's `target.where` against this device (its inventory and probe); absent: every policy holds. */
  judge?: (where: TargetSelector) => SelectorVerdict;
}

export class PolicyStore implements PolicySource {
  private readonly accepted: Map<string, AcceptedPolicy>;

  constructor(private readonly options: PolicyStoreOptions) {
    this.accepted = new Map(Object.entries(options.accepted ?? {}));
  }

  topics(): string[] {
    return [this.options.deviceTopic, ...this.options.groups.map((g) => this.options.groupTopic(g))];
  }

  /** Never throws: a refused policy changes nothing and comes back with its reason. */
  async receive(topic: string, payload: Uint8Array): Promise<PolicyOutcome> {
    try {
      return await this.accept(topic, payload);
    } catch (err) {
      const error =
        err instanceof BpfleetError
          ? err
          : new PolicyError('POLICY_MALFORMED', `policy ${topic}: ${errorMessage(err)}`, { cause: err });
      return { kind: 'rejected', topic, error };
    }
  }

  ready(): boolean {
    return this.accepted.size > 0;
  }

  /** Expired policies count here too: `keep` marks their programs `expired`, `remove` drops them. */
  wanted(): MergedProgram[] {
    const o = this.options;
    // An excluded policy is as if absent (like an expired `remove` one): a group entry may then win.
    const held = (topic: string) => {
      const policy = this.accepted.get(topic)?.policy;
      return policy && this.exclusion(policy).length === 0 ? policy : undefined;
    };
    return mergePolicies(
      held(o.deviceTopic),
      o.groups.map((g) => held(o.groupTopic(g))),
      this.now(),
    );
  }

  /** The held policies whose `target.where` leaves this device out, in topic order. */
  excluded(): ExcludedPolicy[] {
    const out: ExcludedPolicy[] = [];
    for (const topic of this.topics()) {
      const held = this.accepted.get(topic);
      const reasons = held ? this.exclusion(held.policy) : [];
      if (held && reasons.length > 0) out.push({ topic, serial: held.serial, reasons });
    }
    return out;
  }

  /** What the device cannot tell counts against the policy: it deploys only what it knows it may. */
  private exclusion(policy: Policy): string[] {
    const where = policy.target.where;
    if (!where || !this.options.judge) return [];
    const verdict = this.options.judge(where);
    return [...verdict.excluded, ...verdict.unknown.map((u) => `cannot tell ${u}`)];
  }

  /** The policies of this device's topics whose expiry passed, in topic order. */
  expired(): ExpiredPolicy[] {
    const now = this.now();
    const out: ExpiredPolicy[] = [];
    for (const topic of this.topics()) {
      const held = this.accepted.get(topic);
      const reason = held && policyExpired(held.policy, now);
      if (held && reason) out.push({ topic, serial: held.serial, reason });
    }
    return out;
  }

  /** The earliest expiry still ahead among this device's policies, for the one expiry timer. */
  nextExpiry(): Date | undefined {
    const now = this.now().getTime();
    let next: number | undefined;
    for (const topic of this.topics()) {
      const at = Date.parse(this.accepted.get(topic)?.policy.expires ?? '');
      if (at > now && (next === undefined || at < next)) next = at;
    }
    return next === undefined ? undefined : new Date(next);
  }

  snapshot(): Record<string, AcceptedPolicy> {
    return Object.fromEntries(this.accepted);
  }

  private async accept(topic: string, payload: Uint8Array): Promise<PolicyOutcome> {
    const o = this.options;
    const expectedTarget = this.targetOf(topic);
    if (payload.length === 0) {
      // A cleared retained message cannot be authenticated, so it cannot remove anything.
      return { kind: 'unchanged', topic };
    }
    const digest = sha256Digest(payload);
    const previous = this.accepted.get(topic);
    if (previous && previous.digest === digest) return { kind: 'unchanged', topic };
    let bundle: unknown;
    try {
      bundle = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch (err) {
      throw new PolicyError('POLICY_MALFORMED', `policy ${topic}: payload is not JSON`, { cause: err });
    }
    const now = this.now();
    const policy = await o.verify(bundle, now);
    const at = `policy ${topic} serial ${policy.serial}`;
    if (Date.parse(policy.expires) <= now.getTime()) {
      throw new PolicyError('POLICY_EXPIRED', `${at}: expired at ${policy.expires}`);
    }
    if (policy.fleet !== o.fleet) {
      throw new PolicyError(
        'POLICY_WRONG_TARGET',
        `${at}: for fleet "${policy.fleet}", this is "${o.fleet}"`,
      );
    }
    const target =
      'device' in policy.target ? `device ${policy.target.device}` : `group ${policy.target.group}`;
    if (target !== expectedTarget) {
      throw new PolicyError(
        'POLICY_WRONG_TARGET',
        `${at}: targets ${target}, the topic is for ${expectedTarget}`,
      );
    }
    if (previous && policy.serial < previous.serial) {
      throw new PolicyError('POLICY_REPLAYED', `${at}: older than the applied serial ${previous.serial}`);
    }
    if (previous && policy.serial === previous.serial) {
      throw new PolicyError(
        'POLICY_SERIAL_REUSED',
        `${at}: differs from the applied policy with the same serial`,
      );
    }
    this.accepted.set(topic, { serial: policy.serial, digest, policy });
    return { kind: 'accepted', topic, policy };
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  private targetOf(topic: string): string {
    const o = this.options;
    if (topic === o.deviceTopic) return `device ${o.deviceId}`;
    const group = o.groups.find((g) => o.groupTopic(g) === topic);
    if (group === undefined)
      throw new PolicyError('POLICY_WRONG_TARGET', `policy ${topic}: not a topic of this device`);
    return `group ${group}`;
  }
}
