// The agent's side of the events benchmark: its own StreamDrain (worker thread, budget, layout decode, sinks) on a
// pinned ring for N seconds, delivering to a sink that only counts. Prints "ready", then one JSON line of figures.
import { Registry } from 'prom-client';
import { EventBudget } from '../../agent/dist/events/event-budget.js';
import { StreamDrain } from '../../agent/dist/events/stream-drain.js';
import { EventMetrics } from '../../agent/dist/metrics/event-metrics.js';

const [ringPath, lostPath, seconds] = process.argv.slice(2);
let records = 0;
let rssMax = 0;
const sink = {
  deliver(_ref, batch) {
    records += batch.length;
  },
  flush() {},
  close() {},
};
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const decl = { record: { seq: 'u64', cpu: 'u32', tag: 'u32' }, lostCounter: 'burst_lost' };
const ref = { deployment: 'bench', package: 'bench/burst', version: '1.0.0', stream: 'burst_events' };
const drain = await StreamDrain.open(ref, decl, ringPath, lostPath, {
  // The budget is not what is measured here: it admits everything.
  budget: new EventBudget(1e12, 1e12),
  sinks: [sink],
  metrics: new EventMetrics(new Registry()),
  logger,
});
const sampler = setInterval(() => {
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
}, 100);
const cpu0 = process.cpuUsage();
process.stdout.write('ready\n');
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const cpu = process.cpuUsage(cpu0);
await drain.close();
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({ records, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMaxBytes: rssMax })}\n`,
);
