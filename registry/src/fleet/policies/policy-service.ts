// Policies at the edge: operator-signed policies checked and published, and the edge's own signed
// device policies that carry rollouts. Devices trust the edge key as one of their operator keys.
import { RegistryError } from '@bpfleet/sdk/errors';
import {
  type Policy,
  type PolicyProgram,
  type PolicyTarget,
  signPolicy,
  verifyPolicy,
} from '@bpfleet/sdk/policy';
import type { SigningKey, TrustedKey } from '@bpfleet/sdk/trust';
import type { DesiredTarget } from '../fleet-controller.js';
import type { Rollout } from '../rollouts/rollout.js';
import type { RolloutActions } from '../rollouts/rollout-runner.js';
import type { PolicyStore, StoredPolicy } from './policy-store.js';

/** Checks a policy against what the registry holds (packages, versions, config, attach points). */
export interface PolicyValidator {
  validate(policy: Policy): Promise<void>;
}

export interface PolicyServiceOptions {
  fleet: string;
  store: PolicyStore;
  publish: (target: DesiredTarget, payload: string) => Promise<void>;
  /** Keys whose policies the edge accepts: the operators' and its own. */
  operatorKeys: () => readonly TrustedKey[];
  edgeKey: SigningKey;
  validator?: PolicyValidator;
  policyTtlMs: number;
  now?: () => Date;
}

export interface PolicyService {
  /** Verifies an operator-signed policy bundle, checks it, stores and publishes it retained. */
  apply(bundle: unknown): Promise<StoredPolicy>;
  current(target: PolicyTarget): StoredPolicy | undefined;
  list(): StoredPolicy[];
  nextSerial(target: PolicyTarget): number;
  /** Signs a policy with the edge key (serial and expiry chosen here) and applies it. */
  signAndApply(target: PolicyTarget, programs: PolicyProgram[]): Promise<StoredPolicy>;
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

  async function publishChecked(policy: Policy, bundleText: string): Promise<StoredPolicy> {
    const where = `policy serial ${policy.serial} for ${describeTarget(policy.target)}`;
    if (policy.fleet !== o.fleet) {
      throw new RegistryError(
        'POLICY_WRONG_FLEET',
        `${where}: fleet ${policy.fleet}, this edge serves ${o.fleet}`,
      );
    }
    await o.validator?.validate(policy);
    if (!o.store.saveIfNewer(policy, bundleText, now())) {
      const current = o.store.get(policy.target)?.serial;
      throw new RegistryError(
        'POLICY_SERIAL_NOT_NEWER',
        `${where}: serial must be above the current ${current}; use ${service.nextSerial(policy.target)}`,
      );
    }
    await o.publish(policy.target, bundleText);
    return o.store.get(policy.target)!;
  }

  const groupEntry = (rollout: Rollout): PolicyProgram => {
    const group = o.store.get({ group: rollout.spec.group });
    const entry = group?.policy.programs.find((p) => p.package === rollout.spec.package);
    if (!entry) {
      throw new RegistryError(
        'ROLLOUT_NO_GROUP_POLICY',
        `rollout ${rollout.id}: group ${rollout.spec.group} has no policy running ${rollout.spec.package}; apply one first`,
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
      const policy = await verifyPolicy(bundle, o.operatorKeys(), now());
      return publishChecked(policy, typeof bundle === 'string' ? bundle : JSON.stringify(bundle));
    },
    current: (target) => o.store.get(target),
    list: () => o.store.list(),
    nextSerial(target) {
      return (o.store.get(target)?.serial ?? 0) + 1;
    },
    async signAndApply(target, programs) {
      const policy: Policy = {
        apiVersion: 'bpfleet/v1',
        kind: 'Policy',
        serial: service.nextSerial(target),
        expires: new Date(now().getTime() + o.policyTtlMs).toISOString(),
        target,
        fleet: o.fleet,
        programs,
      };
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
        async move(rollout, devices) {
          const entry = pinned(groupEntry(rollout), rollout.spec.version);
          for (const device of devices) {
            const own = o.store.get({ device })?.policy.programs ?? null;
            o.store.backup(rollout.id, device, own);
            const before = o.store.backups(rollout.id).get(device) ?? [];
            await service.signAndApply({ device }, [...before.filter((p) => p.id !== entry.id), entry]);
          }
        },
        async restore(rollout, devices) {
          const backups = o.store.backups(rollout.id);
          for (const device of devices) await service.signAndApply({ device }, backups.get(device) ?? []);
        },
        async complete(rollout) {
          const group = o.store.get({ group: rollout.spec.group })!;
          const entry = groupEntry(rollout);
          const programs = group.policy.programs.map((p) =>
            p.id === entry.id ? pinned(p, rollout.spec.version) : p,
          );
          // The group moves first; then devices drop their rollout overrides and follow the group again.
          await service.signAndApply({ group: rollout.spec.group }, programs);
          const backups = o.store.backups(rollout.id);
          for (const [device, own] of backups) await service.signAndApply({ device }, own ?? []);
        },
      };
    },
  };
  return service;
}
