// Waits for behaviour, never for a duration: polls a check until it holds, or fails naming what it waited for.
import { setTimeout as sleep } from 'node:timers/promises';
import { BpfleetError } from '../errors.js';

export class UntilTimeoutError extends BpfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNTIL_TIMED_OUT', message, options);
  }
}

/**
 * Polls `check` (sync or async) until it returns true. A check that throws counts as "not yet" (a process not
 * started, a file not written); the last error is kept. On timeout, throws `UntilTimeoutError` whose message names
 * `what`, the last state `describeLast` returned and the check's last error. Polls quickly at first (10 ms), then
 * no more often than every `everyMs`, so checks that spawn bpftool do not load a shared machine.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  describeLast?: () => unknown,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pause = Math.min(10, everyMs);
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(pause);
    pause = Math.min(pause * 2, everyMs);
  }
  const parts = [`waiting for ${what}: timed out after ${timeoutMs} ms`];
  if (describeLast) parts.push(`last seen ${show(describeLast)}`);
  if (lastError !== undefined) parts.push(`the check last threw: ${errorText(lastError)}`);
  throw new UntilTimeoutError(parts.join('; '), { cause: lastError });
}

function show(describe: () => unknown): string {
  try {
    const value = describe();
    return typeof value === 'string' ? value : (JSON.stringify(value, bigints) ?? String(value));
  } catch (err) {
    return `(describing it threw: ${errorText(err)})`;
  }
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
