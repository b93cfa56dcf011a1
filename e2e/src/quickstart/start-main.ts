// Entry of `npm start` (scripts/start.mjs): the quickstart; `--exit-when-ready [--timeout <s>]` for tests.
import { parseArgs } from 'node:util';
import { runQuickstart } from './quickstart.js';
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

runMain(
  'bpfleet quickstart',
  (ctx) =>
    runQuickstart({
      ...ctx,
      exitWhenReady: values['exit-when-ready'] ?? false,
      readyTimeoutMs: Number(values.timeout) * 1000,
      redraw: process.stdout.isTTY === true,
    }),
  true,
);
