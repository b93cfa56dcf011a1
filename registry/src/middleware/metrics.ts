// Prometheus metrics of the registry: requests, latencies, bytes served, publishes (own registry, not the global one).
import type { MiddlewareHandler } from 'hono';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { AppEnv } from './app-env.js';

export interface RegistryMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  bytesServed: Counter<'kind'>;
  publishes: Counter<'result'>;
  publishDuration: Histogram;
}

export function createRegistryMetrics(options: { processMetrics?: boolean } = {}): RegistryMetrics {
  const registry = new Registry();
  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges _total, which Prometheus keeps for counters (promtool's 3 lints);
    // nodejs_active_{handles,requests,resources} by type carry the same counts.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      registry.removeSingleMetric(name);
  }
  return {
    registry,
    requests: new Counter({
      name: 'bpfleet_registry_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'bpfleet_registry_http_request_duration_seconds',
      help: 'Time to produce a response (headers), by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    bytesServed: new Counter({
      name: 'bpfleet_registry_bytes_served_total',
      help: 'Body bytes served, by kind (package, manifest, bundle, index)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    publishes: new Counter({
      name: 'bpfleet_registry_publishes_total',
      help: 'Publish attempts by result (ok or the error code)',
      labelNames: ['result'],
      registers: [registry],
    }),
    publishDuration: new Histogram({
      name: 'bpfleet_registry_publish_duration_seconds',
      help: 'Time of successful publishes, upload and verification included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
  };
}

export function metricsMiddleware(metrics: RegistryMetrics): MiddlewareHandler<AppEnv> {
  // Label children cached by key: resolving labels on every request shows up in download throughput.
  const counters = new Map<string, Counter.Internal>();
  const timers = new Map<string, Histogram.Internal<'method' | 'route'>>();
  return async (c, next) => {
    const start = process.hrtime.bigint();
    await next();
    // routePath is the pattern (`/v1/blobs/:digest`), so label cardinality stays bounded.
    const route = c.req.routePath || 'unmatched';
    const method = c.req.method;
    const status = String(c.res.status);
    const countKey = `${method} ${route} ${status}`;
    let counter = counters.get(countKey);
    if (!counter) {
      counter = metrics.requests.labels(method, route, status);
      counters.set(countKey, counter);
    }
    counter.inc();
    const timeKey = `${method} ${route}`;
    let timer = timers.get(timeKey);
    if (!timer) {
      timer = metrics.duration.labels(method, route);
      timers.set(timeKey, timer);
    }
    timer.observe(Number(process.hrtime.bigint() - start) / 1e9);
  };
}
