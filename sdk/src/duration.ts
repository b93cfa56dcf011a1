// Durations as people write them (`90s`, `5m`, `24h`, `7d`), parsed in one place for the CLI and the edge.
import { ConfigError } from './errors.js';

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export interface DurationBounds {
  /** Inclusive, in milliseconds. */
  min?: number;
  max?: number;
}

function describe(ms: number): string {
  for (const [unit, size] of [...Object.entries(UNITS)].reverse()) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Milliseconds from `<integer><unit>` with unit ms, s, m, h or d. A bare number is refused: `5` meant seconds to
 * one reader and milliseconds to another, so the unit is always written.
 */
export function parseDuration(text: string, context: string, bounds: DurationBounds = {}): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    throw new ConfigError(
      'DURATION_INVALID',
      `${context}: ${JSON.stringify(text)} has no unit; write ${trimmed}s, ${trimmed}m or ${trimmed}h (units: ms, s, m, h, d)`,
    );
  }
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(trimmed);
  if (!match) {
    throw new ConfigError(
      'DURATION_INVALID',
      `${context}: ${JSON.stringify(text)} is not a duration; write a whole number and a unit, e.g. 90s, 5m, 24h, 7d`,
    );
  }
  const ms = Number(match[1]) * UNITS[match[2] as keyof typeof UNITS];
  if (bounds.min !== undefined && ms < bounds.min)
    throw new ConfigError('DURATION_INVALID', `${context}: ${text} is shorter than ${describe(bounds.min)}`);
  if (bounds.max !== undefined && ms > bounds.max)
    throw new ConfigError('DURATION_INVALID', `${context}: ${text} is longer than ${describe(bounds.max)}`);
  return ms;
}

/** The shortest exact spelling (`300000` → `5m`), for messages. */
export function formatDuration(ms: number): string {
  return describe(ms);
}
