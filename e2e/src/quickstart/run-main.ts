// Shared by the two entries: signals become a stop request, and the cleanup stack runs on every way out.
import { errorMessage } from '@bpfleet/sdk/errors';
import { type CleanupStack, createCleanupStack } from './cleanup-stack.js';

export interface MainContext {
  cleanup: CleanupStack;
  stopRequested: Promise<string>;
  write: (text: string) => void;
}

/** Runs `body`, then the cleanup, then exits with its code (1 with the reason when it throws). */
export function runMain(
  name: string,
  body: (ctx: MainContext) => Promise<number>,
  /** When false, a signal abandons `body` (exit 130 after the cleanup); when true, `body` answers it. */
  bodyHandlesStop = false,
): void {
  const write = (text: string) => {
    process.stdout.write(text);
  };
  // A closed pipe (`npm start | head`) must not end the run before its cleanup: output is dropped instead.
  process.stdout.on('error', () => {});
  const cleanup = createCleanupStack((line) => process.stderr.write(`${name}: ${line}\n`));
  let requestStop: (signal: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C while cleaning up: leave at once (what remains is removed by the next run).
    if (++signals > 1) process.exit(130);
    requestStop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stopped = () =>
    stopRequested.then((signal) => {
      process.stderr.write(`${name}: stopped by ${signal}\n`);
      return 130;
    });
  const run = body({ cleanup, stopRequested, write });
  (bodyHandlesStop ? run : Promise.race([run, stopped()]))
    .catch((err: unknown) => {
      process.stderr.write(`${name}: ${errorMessage(err)}\n`);
      return 1;
    })
    .then(async (code) => {
      await cleanup.run();
      process.exit(code);
    });
}
