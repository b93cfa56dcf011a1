// Fetcher over the registry's HTTP API: the archive by digest (cached, resumable) and the publisher's bundle.
import { RegistryError } from '@bpfleet/sdk/errors';
import { backoffDelay, sleep } from '../backoff.js';
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
    const text = await this.fetchBundle(url, label);
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

  /**
   * The bundle with the archive's retries: a refused or reset connection (a busy edge closing keep-alive
   * sockets, thousands of devices at once) or a 5xx must not fail a deployment that the next try would finish.
   */
  private async fetchBundle(url: string, label: string): Promise<string> {
    let last = '';
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.options.backoff));
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      } catch (err) {
        last = (err as Error).message;
        continue;
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel();
        last = `HTTP ${res.status}`;
        continue;
      }
      if (res.status !== 200)
        throw new RegistryError('FETCH_FAILED', `fetch ${label} bundle: HTTP ${res.status}`);
      try {
        return await res.text();
      } catch (err) {
        last = (err as Error).message;
      }
    }
    throw new RegistryError(
      'FETCH_FAILED',
      `fetch ${label} bundle: gave up after ${this.options.attempts} attempts: ${last}`,
    );
  }
}
