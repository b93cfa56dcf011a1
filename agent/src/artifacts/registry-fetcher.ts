// Fetcher over the registry's HTTP API: the archive by digest (cached, resumable) and the publisher's bundle.
import { RegistryError } from '@bpfleet/sdk/errors';
import { backoffDelay, sleep } from '../backoff.js';
import type { Artifact, Fetcher, PackageRef } from '../ports.js';
import type { ArtifactCache } from './artifact-cache.js';
import { type DownloadOptions, downloadBlob, sharedRegistryHttp } from './http-download.js';
import { BodyTooLarge, networkMessage, readBody } from './registry-http.js';

// A bundle is a few KB; anything much larger is not one.
const MAX_BUNDLE_BYTES = 1024 * 1024;

export class RegistryFetcher implements Fetcher {
  constructor(
    private readonly registryUrl: string,
    private readonly cache: ArtifactCache,
    private readonly options: DownloadOptions,
  ) {}

  async fetch(ref: PackageRef, signal?: AbortSignal): Promise<Artifact> {
    const label = `${ref.package}@${ref.version}`;
    const archive = await downloadBlob(
      this.cache,
      `${this.registryUrl}/v1/blobs/${ref.digest}`,
      { label, digest: ref.digest, size: ref.size },
      this.options,
      signal,
    );
    const [ns, name] = ref.package.split('/');
    const url = `${this.registryUrl}/v1/packages/${ns}/${name}/versions/${encodeURIComponent(ref.version)}/bundle`;
    const text = await this.fetchBundle(url, label, signal);
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
  private async fetchBundle(url: string, label: string, signal?: AbortSignal): Promise<string> {
    let last = '';
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      signal?.throwIfAborted();
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, this.options.backoff), signal);
      const http = this.options.http ?? sharedRegistryHttp();
      let res: Awaited<ReturnType<typeof http.get>>;
      try {
        res = await http.get(url, { timeoutMs: 15_000, ...(signal && { signal }) });
      } catch (err) {
        last = networkMessage(err);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status >= 500 || status === 429) {
        res.destroy();
        last = `HTTP ${status}`;
        continue;
      }
      if (status !== 200) {
        res.destroy();
        throw new RegistryError('FETCH_FAILED', `fetch ${label} bundle: HTTP ${status}`);
      }
      try {
        return (await readBody(res, MAX_BUNDLE_BYTES)).toString('utf8');
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          throw new RegistryError('FETCH_FAILED', `fetch ${label} bundle: ${err.message}`);
        }
        last = networkMessage(err);
      }
    }
    throw new RegistryError(
      'FETCH_FAILED',
      `fetch ${label} bundle: gave up after ${this.options.attempts} attempts: ${last}`,
    );
  }
}
