// The Prometheus endpoint: GET /metrics (text exposition) and GET /healthz.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What is scraped: a prom-client Registry, or AgentMetrics (its registry plus the program metrics). */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(
  registry: MetricsSource,
  host: string,
  port: number,
  beforeScrape?: () => Promise<void>,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      (beforeScrape ?? (async () => {}))()
        .catch(() => {})
        .then(() => registry.metrics())
        .then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: Error) => res.writeHead(500).end(err.message),
        );
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') return void res.writeHead(200).end('ok\n');
    res.writeHead(404).end();
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
