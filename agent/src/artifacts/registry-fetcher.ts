// Fetcher over the registry's HTTP API: the archive by digest (cached, resumable) and the publisher's bundle.
import { RegistryError } from '@bpfleet/sdk/errors';
import type { Artifact, Fetcher, PackageRef } from '../ports.js';
import type { ArtifactCache } from './artifact-cache.js';
import { type DownloadOptions, downloadBlob } from './http-download.js';

// A bundle is a few KB; anything much larger is not one.
const MAX_BUNDLE_BYTES = 1024 * 1024;

export class RegistryFetcher implements Fetcher {
  constructor(
    private readonly registryUrl: string,
    private readonly cache: ArtifactCache,
    private readonly options: DownloadOptions,
  ) {}

  async fetch(ref: PackageRef): Promise<Artifact> {
    const label = `${ref.package}@${ref.version}`;
    const archive = await downloadBlob(
      this.cache,
      `${this.registryUrl}/v1/blobs/${ref.digest}`,
      { label, digest: ref.digest, size: ref.size },
      this.options,
    );
    const [ns, name] = ref.package.split('/');
    const url = `${this.registryUrl}/v1/packages/${ns}/${name}/versions/${encodeURIComponent(ref.version)}/bundle`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw new RegistryError('FETCH_FAILED', `fetch ${label} bundle: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (res.status !== 200)
      throw new RegistryError('FETCH_FAILED', `fetch ${label} bundle: HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_BUNDLE_BYTES) {
      throw new RegistryError(
        'FETCH_FAILED',
        `fetch ${label} bundle: ${text.length} bytes, limit ${MAX_BUNDLE_BYTES}`,
      );
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(text);
    } catch (err) {
      throw new RegistryError('FETCH_FAILED', `fetch ${label} bundle: not JSON`, { cause: err });
    }
    return { ref, archive, bundle };
  }
}
