import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentMetrics } from './agent-metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { promtoolProblems } from './promtool.js';

const owner = { deployment: 'fw', package: 'acme/xdp-firewall', version: '1.2.0' };

test('serves the agent metrics and each program metric under its own name, type and labels', async () => {
  const metrics = new AgentMetrics();
  let scrapes = 0;
  const server = await startMetricsServer(metrics, '127.0.0.1', 0, async () => {
    scrapes++;
    metrics.setProgramMetrics([
      {
        ...owner,
        map: 'verdicts',
        name: 'bpfleet_xdp_firewall_packets_total',
        key: 'verdict=pass',
        value: 42 + scrapes,
        type: 'counter',
        help: 'Packets seen, by verdict',
        labels: { verdict: 'pass' },
      },
      {
        ...owner,
        map: 'verdicts',
        name: 'bpfleet_xdp_firewall_packets_total',
        key: 'verdict=drop',
        value: 7,
        type: 'counter',
        help: 'Packets seen, by verdict',
        labels: { verdict: 'drop "x"\\' },
      },
      {
        ...owner,
        map: 'lat',
        name: 'runq_latency_seconds',
        key: '',
        value: 6,
        type: 'histogram',
        help: 'Run queue latency',
        labels: {},
        buckets: [
          { le: 0, count: 1 },
          { le: 1e-6, count: 2 },
          { le: 3e-6, count: 3 },
          { le: Number.POSITIVE_INFINITY, count: 0 },
        ],
        sum: 8e-6,
      },
      {
        ...owner,
        map: 'x',
        name: 'bpfleet_agent_deployments',
        key: '',
        value: 1,
        type: 'gauge',
        help: 'collides',
        labels: {},
      },
    ]);
  });
  try {
    metrics.event('ATTACHED');
    metrics.setConnected(true);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /bpfleet_agent_events_total\{state="ATTACHED"\} 1/);
    assert.match(text, /# TYPE bpfleet_xdp_firewall_packets_total counter/);
    assert.match(
      text,
      /^bpfleet_xdp_firewall_packets_total\{deployment="fw",package="acme\/xdp-firewall",version="1.2.0",verdict="pass"\} 43$/m,
    );
    assert.match(text, /verdict="drop \\"x\\"\\\\"\} 7$/m);
    assert.match(text, /# TYPE runq_latency_seconds histogram/);
    assert.match(text, /^runq_latency_seconds_bucket\{[^}]*le="0.000001"\} 3$/m);
    assert.match(text, /^runq_latency_seconds_bucket\{[^}]*le="\+Inf"\} 6$/m);
    assert.match(text, /^runq_latency_seconds_sum\{[^}]*\} 0.000008$/m);
    assert.match(text, /^runq_latency_seconds_count\{[^}]*\} 6$/m);
    assert.doesNotMatch(text, /help="collides"|bpfleet_agent_deployments\{deployment/);
    assert.match(
      text,
      /bpfleet_agent_program_metrics_skipped_total\{deployment="fw",name="bpfleet_agent_deployments"\} 1/,
    );
    assert.deepEqual(promtoolProblems(text), []);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});
