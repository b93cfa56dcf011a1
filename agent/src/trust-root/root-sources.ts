// Where root versions come from: the device's own copy of the chain (`<dataDir>/roots/<N>.json`) and the edge.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from '@bpfleet/sdk/errors';
import { writeFileAtomic } from '../state/state-file.js';

/** Returns the bundle of root `version`, or undefined when there is none (yet). */
export type RootSource = (version: number, signal?: AbortSignal) => Promise<unknown | undefined>;

// A root is a few keys and signatures: 64 KiB is far above any real one.
export const MAX_ROOT_BYTES = 64 * 1024;

/** The verified roots this device keeps, one file per version, so a restart re-walks them without the network. */
export class RootChainFiles {
  constructor(private readonly dir: string) {}

  read: RootSource = async (version) => {
    try {
      return JSON.parse(await readFile(this.path(version), 'utf8'));
    } catch {
      return undefined;
    }
  };

  async write(version: number, bundle: unknown): Promise<void> {
    await writeFileAtomic(this.path(version), JSON.stringify(bundle));
  }

  private path(version: number): string {
    return join(this.dir, `${version}.json`);
  }
}

/** `GET {registryUrl}/v1/root/{version}.json`: 404 means no such version yet; other failures throw. */
export function edgeRootSource(registryUrl: string, timeoutMs = 10_000): RootSource {
  return async (version, signal) => {
    const url = `${registryUrl}/v1/root/${version}.json`;
    const what = `fetch root v${version} from ${url}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      throw new RegistryError('REGISTRY_UNREACHABLE', `${what}: ${(err as Error).message}`, { cause: err });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RegistryError('REGISTRY_ERROR', `${what}: HTTP ${response.status}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_ROOT_BYTES)
        throw new RegistryError('ROOT_TOO_LARGE', `${what}: over ${MAX_ROOT_BYTES} bytes`);
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      throw new RegistryError('ROOT_INVALID', `${what}: not JSON`, { cause: err });
    }
  };
}
