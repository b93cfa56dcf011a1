import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentMetrics } from './agent-metrics.js';
import { startMetricsServer } from './metrics-server.js';

test('serves the agent and program metrics in the Prometheus text format', async () => {
  const metrics = new AgentMetrics();
  let scrapes = 0;
  const server = await startMetricsServer(metrics.registry, '127.0.0.1', 0, async () => {
    scrapes++;
    metrics.setProgramMetrics([
      { deployment: 'count', map: 'stats', name: 'packets', key: 'ipv4', value: 42 + scrapes },
    ]);
  });
  try {
    metrics.event('ATTACHED');
    metrics.reconciled(true);
    metrics.setConnected(true);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /bpfleet_agent_events_total\{state="ATTACHED"\} 1/);
    assert.match(text, /bpfleet_agent_mqtt_connected 1/);
    assert.match(
      text,
      /bpfleet_program_metric\{deployment="count",map="stats",metric="packets",key="ipv4"\} 43/,
    );
    metrics.setProgramMetrics([]);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});
