// Builds the bpfleet-edge registry app from its dependencies: route table, auth, metrics, errors.

import { errorMessage } from '@bpfleet/sdk/errors';
import { INDEX_PAYLOAD_TYPE } from '@bpfleet/sdk/trust';
import { Hono } from 'hono';
import type { AppDeps } from './app-deps.js';
import { mountConsole } from './console/console-routes.js';
import { errorBody, errorResponse, statusOf } from './http-errors.js';
import { createIndexSigner } from './index-doc/index-signer.js';
import type { AppEnv } from './middleware/app-env.js';
import { createAuthorizer } from './middleware/auth.js';
import { metricsMiddleware } from './middleware/metrics.js';
import { toOpenApi } from './openapi/openapi.js';
import { mountRoutes, type RouteSpec } from './openapi/route-table.js';
import { rootRoutes } from './root/root-routes.js';
import { createRootService } from './root/root-service.js';
import { type BlobResponder, createBlobResponder } from './routes/blob-responder.js';
import { channelRoutes } from './routes/channel-routes.js';
import { createDocumentFastPath, type DocumentFastPath } from './routes/document-fast-path.js';
import { fleetRoutes } from './routes/fleet-routes.js';
import { indexRoutes } from './routes/index-routes.js';
import { namespaceRoutes } from './routes/namespace-routes.js';
import { packageRoutes } from './routes/package-routes.js';
import { publishRoute } from './routes/publish-route.js';
import { systemRoutes } from './routes/system-routes.js';

export const API_VERSION = '1.0.0';

export interface RegistryApp {
  app: Hono<AppEnv>;
  /** Serves published blobs; also used by the Node download fast path. */
  downloads: BlobResponder;
  /** The index and bundle requests of a rollout without the framework; Node listener only (node-listener.ts). */
  documents: DocumentFastPath;
  routes: RouteSpec[];
  openApi(): Record<string, unknown>;
}

export function createApp(deps: AppDeps): RegistryApp {
  const app = new Hono<AppEnv>();
  app.use(metricsMiddleware(deps.metrics));

  const signer = createIndexSigner({
    catalog: deps.catalog,
    keys: deps.keys,
    clock: deps.clock,
    logger: deps.logger,
    ttlMs: deps.indexTtlMs,
    payloadType: INDEX_PAYLOAD_TYPE,
  });
  let openApiDoc: Record<string, unknown> | undefined;
  const openApi = () => {
    openApiDoc ??= toOpenApi(routes, { title: 'bpfleet-edge registry', version: API_VERSION });
    return openApiDoc;
  };
  const downloads = createBlobResponder(deps);
  const roots = createRootService({
    catalog: deps.catalog,
    registryKeyId: deps.keys.keyId,
    now: () => deps.clock.now(),
    ...(deps.fleet?.announceRoot && { announce: deps.fleet.announceRoot }),
    onRoot: (root) =>
      deps.fleet?.useRootOperators?.(root.roles.operators.keys, root.roles.operators.threshold),
  });
  // The embedded broker keeps retained messages in memory only: the newest root is announced again at start.
  roots.resume().catch((err: unknown) => deps.logger.error('root of trust', { error: errorMessage(err) }));
  const routes: RouteSpec[] = [
    ...namespaceRoutes(deps),
    publishRoute(deps),
    ...packageRoutes(deps, downloads),
    ...channelRoutes(deps),
    ...indexRoutes(deps, signer, INDEX_PAYLOAD_TYPE),
    ...rootRoutes(roots),
    ...(deps.fleet ? fleetRoutes(deps.fleet) : []),
    ...systemRoutes(deps, openApi),
  ];
  mountRoutes(app, routes, createAuthorizer(deps.catalog));
  mountConsole(app);

  app.notFound((c) =>
    c.body(errorBody('NOT_FOUND', `${c.req.method} ${c.req.path}: no such route`), 404, {
      'content-type': 'application/json; charset=utf-8',
    }),
  );
  app.onError((err, c) => {
    if (statusOf(err) >= 500) {
      deps.logger.error('request failed', {
        method: c.req.method,
        path: c.req.path,
        error: String(err),
        stack: err.stack,
      });
    }
    return errorResponse(err);
  });
  const documents = createDocumentFastPath(deps.catalog, signer, deps.metrics);
  return { app, downloads, documents, routes, openApi };
}
