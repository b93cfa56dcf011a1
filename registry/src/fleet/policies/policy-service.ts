// Policies at the edge: operator-signed policies (k of n) checked and published, and the edge's own signed
// policies that carry rollouts, each with the operator policies that allow it as its grants.
import { RegistryError, TrustError } from '@bpfleet/sdk/errors';
import {
  type Policy,
  type PolicyProgram,
  type PolicyTarget,
  signPolicy,
  verifyPolicySigners,
} from '@bpfleet/sdk/policy';
import type { SigningKey, TrustedKey } from '@bpfleet/sdk/trust';
import type { DesiredTarget, FleetLogger } from '../fleet-controller.js';
import type { RolloutSpec } from '../rollouts/rollout.js';
import type { RolloutActions } from '../rollouts/rollout-runner.js';
import { boundedByGrants, grantsFor } from './edge-grants.js';
import { type PolicyStore, type StoredPolicy, targetKey } from './policy-store.js';

/** Checks a policy against what the registry holds (packages, versions, config, attach points). */
export interface PolicyValidator {
  validate(policy: Policy): Promise<void>;
}

export interface PolicyServiceOptions {
  fleet: string;
  store: PolicyStore;
  publish: (target: DesiredTarget, payload: string) => Promise<void>;
  /** The operators' keys (never the edge's own): `apply` needs `operatorThreshold` of them (default 1). */
  operatorKeys: () => readonly TrustedKey[];
  operatorThreshold?: number;
  edgeKey: SigningKey;
  validator?: PolicyValidator;
  policyTtlMs: number;
  /** Every published policy is in the edge's journal, with its target, serial and signer as fields. */
  logger?: FleetLogger;
  now?: () => Date;
}

export interface PolicyService {
  /** Verifies an operator-signed policy bundle, checks it, stores and publishes it retained. */
  apply(bundle: unknown): Promise<StoredPolicy>;
  /** What `apply` would refuse, for an unsigned policy (a server-side dry run); stores and publishes nothing. */
  check(policy: Policy): Promise<void>;
  current(target: PolicyTarget): StoredPolicy | undefined;
  list(): StoredPolicy[];
  nextSerial(target: PolicyTarget): number;
  /**
   * Signs a policy with the edge key (serial and expiry chosen here) and applies it, carrying the operator
   * policies of `group` (and the device's own) as grants; POLICY_NOT_ALLOWED when they do not allow it.
   */
  signAndApply(target: PolicyTarget, programs: PolicyProgram[], group: string): Promise<StoredPolicy>;
  rolloutActions(): RolloutActions;
  /**
   * Publishes every stored policy again, retained. The store is the source of truth: a broker that keeps
   * retained messages in memory (the embedded one) forgets them when the edge restarts.
   */
  republish(): Promise<number>;
}

function describeTarget(target: PolicyTarget): string {
  return 'device' in target ? `device ${target.device}` : `group ${target.group}`;
}

export function createPolicyService(o: PolicyServiceOptions): PolicyService {
  const now = o.now ?? (() => new Date());

  /** Everything `apply` checks but the signatures: fleet, catalog (packages, versions, config, maps), serial. */
  async function check(policy: Policy): Promise<void> {
    const where = `policy serial ${policy.serial} for ${describeTarget(policy.target)}`;
    if (policy.fleet !== o.fleet) {
      throw new RegistryError(
        'POLICY_WRONG_FLEET',
        `${where}: fleet ${policy.fleet}, this edge serves ${o.fleet}`,
      );
    }
    await o.validator?.validate(policy);
    const current = o.store.get(policy.target)?.serial;
    if (current !== undefined && policy.serial <= current) {
      throw new RegistryError(
        'POLICY_SERIAL_NOT_NEWER',
        `${where}: serial must be above the current ${current}; use ${current + 1}`,
      );
    }
  }

  async function publishChecked(policy: Policy, bundleText: string): Promise<StoredPolicy> {
    const where = `policy serial ${policy.serial} for ${describeTarget(policy.target)}`;
    await check(policy);
    // Checked again by the store itself: another apply may have stored a newer serial meanwhile.
    if (!o.store.saveIfNewer(policy, bundleText, now())) {
      const current = o.store.get(policy.target)?.serial;
      throw new RegistryError(
        'POLICY_SERIAL_NOT_NEWER',
        `${where}: serial must be above the current ${current}; use ${service.nextSerial(policy.target)}`,
      );
    }
    await o.publish(policy.target, bundleText);
    o.logger?.info('policy published', {
      target: targetKey(policy.target),
      serial: policy.serial,
      expires: policy.expires,
      programs: policy.programs.map((p) => `${p.id}=${p.package}@${p.version ?? `#${p.channel ?? '*'}`}`),
      signedBy: policy.grants ? 'edge (rollout)' : 'operators',
    });
    return o.store.get(policy.target)!;
  }

  const groupEntry = (spec: RolloutSpec, what: string): PolicyProgram => {
    const group = o.store.get({ group: spec.group });
    const entry = group?.policy.programs.find((p) => p.package === spec.package);
    if (!entry) {
      throw new RegistryError(
        'ROLLOUT_NO_GROUP_POLICY',
        `${what}: group ${spec.group} has no policy running ${spec.package}; apply one first`,
      );
    }
    return entry;
  };
  const pinned = (entry: PolicyProgram, version: string): PolicyProgram => {
    const { channel: _channel, ...rest } = entry;
    return { ...rest, version };
  };

  const service: PolicyService = {
    async apply(bundle) {
      const { policy } = await verifyPolicySigners(
        bundle,
        o.operatorKeys(),
        o.operatorThreshold ?? 1,
        now(),
      ).catch((err: unknown) => {
        if (!(err instanceof TrustError) || err.code !== 'THRESHOLD_NOT_MET') throw err;
        throw new TrustError(
          'THRESHOLD_NOT_MET',
          `apply policy: ${err.message}; more operators co-sign it with \`bpfleet policy sign <policy>.signed.json --key <operator.key>\``,
          { cause: err },
        );
      });
      return publishChecked(policy, typeof bundle === 'string' ? bundle : JSON.stringify(bundle));
    },
    check,
    current: (target) => o.store.get(target),
    list: () => o.store.list(),
    nextSerial(target) {
      return (o.store.get(target)?.serial ?? 0) + 1;
    },
    async signAndApply(target, programs, group) {
      const draft: Policy = {
        apiVersion: 'bpfleet/v1',
        kind: 'Policy',
        serial: service.nextSerial(target),
        expires: new Date(now().getTime() + o.policyTtlMs).toISOString(),
        target,
        fleet: o.fleet,
        programs,
      };
      const policy = boundedByGrants(draft, grantsFor(o.store, target, group));
      const bundle = await signPolicy(policy, o.edgeKey);
      return publishChecked(policy, JSON.stringify(bundle));
    },
    async republish() {
      const all = o.store.list();
      for (const stored of all) await o.publish(stored.policy.target, stored.bundle);
      return all.length;
    },
    rolloutActions() {
      return {
        async check(spec) {
          const entry = pinned(groupEntry(spec, `rollout ${spec.package}@${spec.version}`), spec.version);
          const group = o.store.get({ group: spec.group })!.policy;
          // The program a wave would sign into device policies, checked as every policy the edge publishes is.
          await o.validator?.validate({ ...group, programs: [entry] });
          // The edge key may sign it only within the operators' allowance (devices refuse anything else).
          boundedByGrants(
            { ...group, programs: [entry] },
            grantsFor(o.store, { group: spec.group }, spec.group),
          );
        },
        async move(rollout, devices) {
          const entry = pinned(groupEntry(rollout.spec, `rollout ${rollout.id}`), rollout.spec.version);
          for (const device of devices) {
            const own = o.store.get({ device })?.policy.programs ?? null;
            o.store.backup(rollout.id, device, own);
            const before = o.store.backups(rollout.id).get(device) ?? [];
            await service.signAndApply(
              { device },
              [...before.filter((p) => p.id !== entry.id), entry],
              rollout.spec.group,
            );
          }
        },
        async restore(rollout, devices) {
          const backups = o.store.backups(rollout.id);
          // Only devices a move reached have a backup; any other keeps the policy it has.
          for (const device of devices) {
            if (backups.has(device))
              await service.signAndApply({ device }, backups.get(device) ?? [], rollout.spec.group);
          }
        },
        async complete(rollout) {
          const group = o.store.get({ group: rollout.spec.group })!;
          const entry = groupEntry(rollout.spec, `rollout ${rollout.id}`);
          const programs = group.policy.programs.map((p) =>
            p.id === entry.id ? pinned(p, rollout.spec.version) : p,
          );
          // The group moves first; then devices drop their rollout overrides and follow the group again.
          await service.signAndApply({ group: rollout.spec.group }, programs, rollout.spec.group);
          const backups = o.store.backups(rollout.id);
          for (const [device, own] of backups)
            await service.signAndApply({ device }, own ?? [], rollout.spec.group);
        },
      };
    },
  };
  return service;
}
