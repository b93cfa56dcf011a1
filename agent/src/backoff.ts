// Exponential backoff with full jitter, shared by MQTT reconnects and artifact downloads.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** The delay before retry number `attempt` (0-based): uniform in [initial/2, min(max, initial·2^attempt)]. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const floor = Math.min(ceiling, options.initialMs / 2);
  return Math.round(floor + random() * (ceiling - floor));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
