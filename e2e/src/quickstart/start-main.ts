// Entry of `npm start` (scripts/start.mjs): the quickstart; `--exit-when-ready [--timeout <s>]` for tests.
import { parseArgs } from 'node:util';
import { quickstartProfile, runQuickstart } from './quickstart.js';
import { runMain } from './run-main.js';

const options = {
  'exit-when-ready': { type: 'boolean', default: false },
  timeout: { type: 'string', default: '50' },
} as const;
let values: { 'exit-when-ready'?: boolean; timeout?: string };
try {
  ({ values } = parseArgs({ args: process.argv.slice(2), options, strict: true }));
} catch (err) {
  process.stderr.write(
    `bpfleet quickstart: ${(err as Error).message}\nusage: npm start [-- --exit-when-ready [--timeout <seconds>]]\n`,
  );
  process.exit(2);
}

// BPFLEET_QUICKSTART_INSTANCE=1..3: a separate instance (the test of npm start uses one).
const instance = process.env.BPFLEET_QUICKSTART_INSTANCE;
if (instance !== undefined && !/^[1-3]$/.test(instance)) {
  process.stderr.write(
    `bpfleet quickstart: BPFLEET_QUICKSTART_INSTANCE: expected 1, 2 or 3, got ${instance}\n`,
  );
  process.exit(2);
}
const timeout = Number(values.timeout);
if (!Number.isFinite(timeout) || timeout <= 0) {
  process.stderr.write(`bpfleet quickstart: --timeout: expected seconds, got ${values.timeout}\n`);
  process.exit(2);
}

runMain(
  'bpfleet quickstart',
  (ctx) =>
    runQuickstart({
      ...ctx,
      profile: quickstartProfile(instance === undefined ? undefined : Number(instance)),
      exitWhenReady: values['exit-when-ready'] ?? false,
      readyTimeoutMs: timeout * 1000,
      redraw: process.stdout.isTTY === true,
      columns: process.stdout.columns,
    }),
  true,
);
