// Drives rollouts: steps them on a timer and on device reports, performs their actions, persists every change.
import { randomUUID } from 'node:crypto';
import { errorMessage, RegistryError } from '@bpfleet/sdk/errors';
import type { FleetLogger } from '../fleet-controller.js';
import type { FleetStore } from '../fleet-store.js';
import { createRollout, type Rollout, type RolloutAction, type RolloutSpec, stepRollout } from './rollout.js';
import { mustGetRollout, type RolloutStore } from './rollout-store.js';

/** How a rollout's decisions reach devices: signed policies published by the edge. */
export interface RolloutActions {
  /** Throws when the spec could never be moved (no group policy, a version the registry refuses): before anything starts. */
  check(spec: RolloutSpec): Promise<void>;
  move(rollout: Rollout, devices: string[]): Promise<void>;
  restore(rollout: Rollout, devices: string[]): Promise<void>;
  complete(rollout: Rollout): Promise<void>;
}

export interface RolloutRunnerOptions {
  fleet: FleetStore;
  store: RolloutStore;
  actions: RolloutActions;
  logger: FleetLogger;
  now?: () => Date;
  tickMs?: number;
}

export interface RolloutRunner {
  start(spec: RolloutSpec): Promise<Rollout>;
  pause(id: string): Rollout;
  resume(id: string): Promise<Rollout>;
  abort(id: string, reason?: string): Promise<Rollout>;
  get(id: string): Rollout;
  list(): Rollout[];
  /** Steps every running rollout once (also called by the timer and on device reports). */
  tick(): Promise<void>;
  /** Ticks finished since start: proof the runner has looked at every rollout since some moment. */
  passes(): number;
  /** Starts the timer; running rollouts from before a restart continue from their stored state. */
  run(): void;
  stop(): void;
}

function neverSeenWarning(records: ReadonlyArray<{ id: string; lastSeen: string | null }>): string[] {
  const never = records.filter((d) => d.lastSeen === null).map((d) => d.id);
  if (never.length === 0) return [];
  const shown = never.slice(0, 5).join(', ') + (never.length > 5 ? `, … (${never.length - 5} more)` : '');
  return [
    `${never.length} of ${records.length} devices have never connected (${shown}): if still offline when their wave starts and silent until its timeout, they are marked UNREACHABLE, not failed`,
  ];
}

export function createRolloutRunner(options: RolloutRunnerOptions): RolloutRunner {
  const { fleet, store, actions, logger } = options;
  const now = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let passes = 0;
  // Steps are serialized so that two triggers never perform the same wave twice.
  let chain: Promise<void> = Promise.resolve();
  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const result = chain.then(work);
    chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  const observe = (rollout: Rollout) => (device: string) =>
    fleet.getDevice(device)?.reported?.programs.find((p) => p.package === rollout.spec.package);
  const online = (device: string) => fleet.getDevice(device)?.presence === 'online';

  async function perform(rollout: Rollout, action: RolloutAction): Promise<void> {
    if (action.kind === 'move') await actions.move(rollout, action.devices);
    else if (action.kind === 'restore') await actions.restore(rollout, action.devices);
    else await actions.complete(rollout);
  }

  /** Performs the rollout's pending actions in order, saving after each, so a crash redoes only the rest. */
  async function flush(rollout: Rollout): Promise<Rollout> {
    const todo = rollout.pending ?? [];
    for (const [i, action] of todo.entries()) {
      try {
        await perform(rollout, action);
      } catch (err) {
        // The registry refusing the move (a version yanked meanwhile, the group policy gone) will refuse it
        // again on every tick: the rollout ends instead of blocking its group. Anything else is retried.
        if (action.kind === 'move' && err instanceof RegistryError) return abortRefusedMove(rollout, err);
        logger.warn('rollout action failed; retried on the next tick', {
          rollout: rollout.id,
          action: action.kind,
          error: errorMessage(err),
        });
        throw err;
      }
      rollout.pending = todo.slice(i + 1);
      // Only the outbox changes here: a pause saved meanwhile must not be overwritten by this older copy.
      const fresh = mustGetRollout(store, rollout.id);
      fresh.pending = rollout.pending;
      store.save(fresh);
    }
    return rollout;
  }

  async function abortRefusedMove(rollout: Rollout, err: RegistryError): Promise<Rollout> {
    const fresh = mustGetRollout(store, rollout.id);
    const moved = fresh.waves.slice(0, fresh.currentWave + 1).flatMap((w) => w.devices);
    fresh.state = 'ABORTED';
    fresh.reason = `wave ${fresh.currentWave + 1} could not be moved: ${err.code}: ${err.message}`;
    for (const d of moved) {
      const entry = fresh.devices[d]!;
      if (!['FAILED', 'TIMED_OUT', 'UNREACHABLE'].includes(entry.status)) entry.status = 'RESTORED';
    }
    fresh.pending = moved.length > 0 ? [{ kind: 'restore', devices: moved }] : [];
    store.save(fresh);
    logger.warn('rollout aborted: a move was refused', {
      rollout: fresh.id,
      wave: fresh.currentWave + 1,
      reason: err.code,
      detail: err.message,
    });
    return flush(fresh);
  }

  async function stepOne(id: string): Promise<Rollout> {
    const current = mustGetRollout(store, id);
    // What an earlier step decided comes first: judging on top of a half-moved wave would misjudge it.
    if (current.pending?.length) return flush(current);
    const { rollout, actions: todo } = stepRollout(current, observe(current), now(), online);
    if (todo.length === 0 && rollout === current) return current;
    // Saved with its actions before acting: after a crash the next tick performs whatever is left.
    rollout.pending = todo;
    store.save(rollout);
    await flush(rollout);
    if (rollout.state !== current.state)
      logger.info(`rollout ${rollout.state.toLowerCase()}`, {
        rollout: id,
        state: rollout.state,
        reason: rollout.reason,
      });
    else if (rollout.currentWave !== current.currentWave)
      logger.info('rollout wave started', {
        rollout: id,
        wave: rollout.currentWave + 1,
        devices: rollout.waves[rollout.currentWave]?.devices.length,
      });
    return rollout;
  }

  const runner: RolloutRunner = {
    async start(spec) {
      const records = fleet.listDevices({ group: spec.group });
      const devices = records.map((d) => d.id);
      if (devices.length === 0) {
        throw new RegistryError(
          'GROUP_EMPTY',
          `rollout ${spec.package}@${spec.version}: group ${spec.group} has no devices`,
        );
      }
      const active = store
        .list()
        .find((r) => r.spec.group === spec.group && (r.state === 'RUNNING' || r.state === 'PAUSED'));
      if (active) {
        throw new RegistryError(
          'ROLLOUT_ACTIVE',
          `group ${spec.group}: rollout ${active.id} is still ${active.state.toLowerCase()}`,
        );
      }
      // Refused before it exists: a rollout that cannot move its first wave would only block the group.
      await actions.check(spec);
      const rollout = createRollout(randomUUID(), spec, devices, now(), neverSeenWarning(records));
      store.save(rollout);
      logger.info('rollout started', {
        rollout: rollout.id,
        group: spec.group,
        package: spec.package,
        version: spec.version,
        waves: rollout.waves.map((w) => w.devices.length),
        warnings: rollout.warnings,
      });
      return serialize(() => stepOne(rollout.id));
    },
    pause(id) {
      const rollout = mustGetRollout(store, id);
      if (rollout.state !== 'RUNNING')
        throw new RegistryError('ROLLOUT_NOT_RUNNING', `rollout ${id}: is ${rollout.state}`);
      rollout.state = 'PAUSED';
      store.save(rollout);
      logger.info('rollout paused', { rollout: id, wave: rollout.currentWave + 1 });
      return rollout;
    },
    async resume(id) {
      const rollout = mustGetRollout(store, id);
      if (rollout.state !== 'PAUSED')
        throw new RegistryError('ROLLOUT_NOT_PAUSED', `rollout ${id}: is ${rollout.state}`);
      rollout.state = 'RUNNING';
      // The wave's timeout counts from the resume: a pause must not turn waiting devices into timeouts.
      const wave = rollout.waves[rollout.currentWave];
      if (wave) wave.startedAt = now().toISOString();
      store.save(rollout);
      logger.info('rollout resumed', { rollout: id, wave: rollout.currentWave + 1 });
      return serialize(() => stepOne(id));
    },
    async abort(id, reason = 'aborted by the operator') {
      return serialize(async () => {
        const rollout = mustGetRollout(store, id);
        if (rollout.state === 'COMPLETED' || rollout.state === 'ABORTED') {
          throw new RegistryError('ROLLOUT_FINISHED', `rollout ${id}: already ${rollout.state}`);
        }
        const moved = rollout.waves.slice(0, rollout.currentWave + 1).flatMap((w) => w.devices);
        rollout.state = 'ABORTED';
        rollout.reason = reason;
        for (const d of moved) {
          const entry = rollout.devices[d]!;
          if (!['FAILED', 'TIMED_OUT', 'UNREACHABLE'].includes(entry.status)) entry.status = 'RESTORED';
        }
        rollout.pending = moved.length > 0 ? [{ kind: 'restore', devices: moved }] : [];
        store.save(rollout);
        logger.info('rollout aborted by the operator', { rollout: id, reason, restoring: moved.length });
        return flush(rollout);
      });
    },
    get: (id) => mustGetRollout(store, id),
    list: () => store.list(),
    tick() {
      return serialize(async () => {
        for (const rollout of store.list()) {
          if (rollout.state !== 'RUNNING' && !rollout.pending?.length) continue;
          await stepOne(rollout.id).catch(() => undefined);
        }
        passes++;
      });
    },
    passes: () => passes,
    run() {
      if (timer) return;
      timer = setInterval(() => void runner.tick(), options.tickMs ?? 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return runner;
}
