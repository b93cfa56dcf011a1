// The Node request listener of the registry: the download and document fast paths first, the Hono app for the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { RegistryApp } from './app.js';
import type { RegistryMetrics } from './middleware/metrics.js';
import { createDownloadFastPath } from './routes/download-fast-path.js';

export function createNodeListener(
  registry: RegistryApp,
  metrics: RegistryMetrics,
): (req: IncomingMessage, res: ServerResponse) => void {
  const app = getRequestListener(registry.app.fetch);
  const fast = createDownloadFastPath(registry.downloads, metrics);
  return (req, res) => {
    if (fast(req, res)) return;
    const document = registry.documents(req, res);
    if (!document) return void app(req, res);
    void document.then((answered) => {
      if (!answered) void app(req, res);
    });
  };
}
