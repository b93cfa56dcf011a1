// What a run created, undone in reverse order exactly once, whether it ends normally, fails or is interrupted.
import { errorMessage } from '@bpfleet/sdk/errors';

export interface CleanupStack {
  /** Registers an undo step; the most recent runs first. */
  push(what: string, undo: () => void | Promise<void>): void;
  /** Runs every step (each failure is reported, none stops the others); later calls wait for the first. */
  run(): Promise<void>;
}

export function createCleanupStack(report: (line: string) => void): CleanupStack {
  const steps: Array<{ what: string; undo: () => void | Promise<void> }> = [];
  let running: Promise<void> | undefined;
  return {
    push: (what, undo) => {
      steps.push({ what, undo });
    },
    run() {
      running ??= (async () => {
        while (steps.length > 0) {
          const step = steps.pop()!;
          try {
            await step.undo();
          } catch (err) {
            report(`cleanup: ${step.what}: ${errorMessage(err)}`);
          }
        }
      })();
      return running;
    },
  };
}
