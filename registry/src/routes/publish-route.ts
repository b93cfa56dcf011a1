// Publish: the archive streams into staging, is verified, then blob and row are committed (in that order).
import type { AppDeps } from '../app-deps.js';
import { httpError } from '../http-errors.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { verifyUpload } from '../publish/verify-upload.js';
import { trustedPublisherKeys } from '../root/root-publishers.js';
import { json, nameParam, namespaceParam, versionParam, versionSchema } from './schemas.js';
import { versionView } from './views.js';

export const BUNDLE_HEADER = 'bpfleet-bundle';

function parseBundleHeader(value: string | undefined, maxBytes: number, context: string): unknown {
  if (!value)
    throw httpError(
      'INVALID_BUNDLE',
      `${context}: the ${BUNDLE_HEADER} header (base64 of the bundle JSON) is required`,
    );
  if (value.length > Math.ceil((maxBytes * 4) / 3) + 4) {
    throw httpError('PAYLOAD_TOO_LARGE', `${context}: bundle larger than ${maxBytes} bytes`);
  }
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch (err) {
    throw httpError('INVALID_BUNDLE', `${context}: ${BUNDLE_HEADER} is not base64 of JSON`, err);
  }
}

export function publishRoute(deps: AppDeps): RouteSpec {
  const { catalog, blobs, clock, limits, logger, metrics } = deps;
  return defineRoute({
    method: 'put',
    path: '/v1/packages/:ns/:name/versions/:version',
    operationId: 'publishVersion',
    summary: 'Publish a version: the body is the archive, the bundle rides in the Bpfleet-Bundle header',
    tag: 'packages',
    access: 'namespace',
    params: { ns: namespaceParam, name: nameParam, version: versionParam },
    headers: {
      'Bpfleet-Bundle': {
        description: 'base64 of the Sigstore bundle JSON signed by a publisher key',
        required: true,
      },
      'Content-Length': { description: 'Archive size; larger than the limit is refused before reading' },
    },
    body: {
      contentType: 'application/gzip',
      schema: { type: 'string', format: 'binary' },
      description: 'The package archive (deterministic .tgz)',
    },
    responses: {
      201: { description: 'Published', content: json(versionSchema) },
      409: { description: 'The version exists (versions are immutable)' },
      413: { description: 'Archive or bundle too large' },
    },
    handler: async (c) => {
      const { ns, name, version } = c.req.param() as { ns: string; name: string; version: string };
      const context = `publish ${ns}/${name}@${version}`;
      const started = process.hrtime.bigint();
      try {
        if (!(await catalog.getNamespace(ns)))
          throw httpError('NAMESPACE_NOT_FOUND', `${context}: no namespace ${ns}`);
        // Cheap refusal before reading a byte; the insert below still settles a race.
        if (await catalog.getVersion(ns, name, version)) {
          throw httpError('VERSION_EXISTS', `${context}: version already exists (versions are immutable)`);
        }
        const bundle = parseBundleHeader(c.req.header(BUNDLE_HEADER), limits.maxBundleBytes, context);
        const declared = Number(c.req.header('content-length') ?? Number.NaN);
        if (declared > limits.maxPackageBytes) {
          throw httpError(
            'PAYLOAD_TOO_LARGE',
            `${context}: archive of ${declared} bytes, limit ${limits.maxPackageBytes}`,
          );
        }
        const body = c.req.raw.body;
        if (!body) throw httpError('BAD_REQUEST', `${context}: empty body (send the archive)`);
        const staged = await blobs.stage(body, { maxBytes: limits.maxPackageBytes }).catch((err: unknown) => {
          if ((err as { code?: string }).code === 'BLOB_TOO_LARGE') {
            throw httpError(
              'PAYLOAD_TOO_LARGE',
              `${context}: archive larger than ${limits.maxPackageBytes} bytes`,
              err,
            );
          }
          throw err;
        });
        try {
          const verified = await verifyUpload({
            namespace: ns,
            name,
            version,
            staged,
            bundle,
            // Narrowed by the published root of trust, when there is one.
            publisherKeys: await trustedPublisherKeys(catalog, ns),
            now: clock.now(),
            archiveLimits: { maxCompressedBytes: limits.maxPackageBytes },
          });
          // Blob first, durably; the row makes it visible. A crash in between leaves an orphan, never a dangling row.
          await staged.commit();
          await catalog.insertVersion({
            namespace: ns,
            name,
            version,
            digest: staged.digest,
            size: staged.size,
            manifestDigest: verified.manifestDigest,
            manifest: verified.manifestBytes.toString('utf8'),
            bundle: JSON.stringify(bundle),
            description: verified.description,
            license: verified.license,
            publishedAt: clock.now().toISOString(),
            yanked: false,
            yankReason: null,
          });
          logger.info('published', {
            package: `${ns}/${name}`,
            version,
            digest: staged.digest,
            size: staged.size,
            keyId: verified.keyId,
          });
        } finally {
          await staged.discard();
        }
        metrics.publishes.inc({ result: 'ok' });
        metrics.publishDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
        return c.json(versionView((await catalog.getVersion(ns, name, version))!), 201);
      } catch (err) {
        metrics.publishes.inc({ result: (err as { code?: string }).code ?? 'INTERNAL' });
        throw err;
      }
    },
  });
}
