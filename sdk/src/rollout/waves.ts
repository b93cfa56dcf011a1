// Rollout waves: cumulative shares of a group (`10%,50%,100%` reaches a tenth, then half, then all of it),
// checked and planned in one place for the CLI and the edge.
import { ConfigError } from '../errors.js';

/** `'10%'` of the group or a device count, each cumulative: how many devices have moved once the wave starts. */
export type WaveStep = string | number;

export interface WavePlan {
  /** Device ids per wave, each wave only the devices it adds. */
  waves: string[][];
  /** What the plan changed from the steps as written (an empty step dropped, a final wave added). */
  warnings: string[];
}

const PERCENT = /^(100|[1-9]\d?)%$/;

function invalid(context: string, message: string): never {
  throw new ConfigError('WAVES_INVALID', `${context}: ${message}`);
}

/** Checks wave steps as given (JSON or split from `--waves`): syntax, range and order. Returns them typed. */
export function checkWaves(steps: readonly unknown[], context: string): WaveStep[] {
  if (steps.length === 0) invalid(context, 'give at least one wave, e.g. 10%,50%,100%');
  let lastPercent = 0;
  let lastCount = 0;
  steps.forEach((step, i) => {
    const where = `wave ${i + 1} (${JSON.stringify(step)})`;
    if (typeof step === 'number') {
      if (!Number.isInteger(step) || step < 1)
        invalid(context, `${where} is not a device count (a whole number ≥ 1)`);
      if (step <= lastCount)
        invalid(
          context,
          `${where} must reach more devices than ${lastCount}: waves are cumulative, e.g. 1,5,20`,
        );
      lastCount = step;
    } else if (typeof step === 'string' && PERCENT.test(step)) {
      const p = Number.parseInt(step, 10);
      if (p <= lastPercent)
        invalid(context, `${where} must be above ${lastPercent}%: waves are cumulative, e.g. 10%,50%,100%`);
      lastPercent = p;
    } else {
      invalid(context, `${where} is not a count or a percentage (1–100%), e.g. 10%,50%,100% or 1,5,20`);
    }
    if (lastPercent === 100 && i < steps.length - 1) invalid(context, `${where}: nothing can follow 100%`);
  });
  return steps as WaveStep[];
}

/** Splits `--waves 10%,50%,100%` (counts become numbers) and checks it. */
export function parseWaves(text: string, context: string): WaveStep[] {
  const steps = text.split(',').map((s) => {
    const t = s.trim();
    return /^\d+$/.test(t) ? Number(t) : t;
  });
  return checkWaves(steps, context);
}

/** Cumulative device count a step reaches on a group of `total`. */
function reach(step: WaveStep, total: number): number {
  if (typeof step === 'number') return Math.min(step, total);
  return Math.ceil((Number.parseInt(step, 10) / 100) * total);
}

/** Splits the group's devices (sorted, so the split is stable) into waves; says what it had to change. */
export function planWaves(devices: readonly string[], steps: readonly WaveStep[]): WavePlan {
  const sorted = [...devices].sort();
  const total = sorted.length;
  const waves: string[][] = [];
  const warnings: string[] = [];
  let reached = 0;
  steps.forEach((step, i) => {
    const target = reach(step, total);
    if (target <= reached) {
      warnings.push(
        `wave ${i + 1} (${step}) adds no device on a group of ${total} (${reached} already reached): left out`,
      );
      return;
    }
    waves.push(sorted.slice(reached, target));
    reached = target;
  });
  if (reached < total) {
    const last = steps[steps.length - 1];
    warnings.push(
      `the last wave (${last}) reaches ${reached} of ${total} devices: a final wave moves the remaining ${total - reached}`,
    );
    waves.push(sorted.slice(reached));
  }
  return { waves, warnings };
}
