// A fetch-based client of the registry API /v1: reads, publish (streamed, with progress), channels, yank, admin.
import { RegistryError } from '../errors.js';
import type {
  IssuedToken,
  PackageInfo,
  PackageSummary,
  PublisherKeyInfo,
  PublishTokenInfo,
  RegistryKeyInfo,
  StoredStatementInfo,
  VersionInfo,
} from './types.js';

export interface RegistryClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080` (the /v1 prefix is added). */
  url: string;
  /** Publish or admin token for the calls that need one. */
  token?: string;
  /** What to do when a call needs a token and none was given (the CLI names the login command). */
  missingTokenHint?: string;
  fetch?: typeof fetch;
}

export interface PublishInput {
  namespace: string;
  name: string;
  version: string;
  archive: Uint8Array;
  /** The Sigstore bundle (parsed JSON) signing this archive. */
  bundle: unknown;
  /** Called as bytes leave, with the total. */
  onProgress?: (sent: number, total: number) => void;
}

export interface PackageQuery {
  q?: string;
  namespace?: string;
  limit?: number;
  offset?: number;
}

const UPLOAD_CHUNK = 64 * 1024;

function seg(value: string): string {
  return encodeURIComponent(value);
}

export class RegistryClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #missingTokenHint: string;

  constructor(options: RegistryClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
    this.#missingTokenHint = options.missingTokenHint ?? 'needs a token (bpfleet login or BPFLEET_TOKEN)';
  }

  /** Says REGISTRY_UNREACHABLE rather than TOKEN_MISSING when the URL itself is wrong. */
  async #tokenMissing(context: string): Promise<never> {
    try {
      await this.#fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    } catch (err) {
      throw new RegistryError('REGISTRY_UNREACHABLE', `${context}: ${this.url}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    throw new RegistryError('TOKEN_MISSING', `${context}: ${this.#missingTokenHint}`);
  }

  async #send(context: string, path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> {
    const { auth, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (auth) {
      if (!this.#token) return this.#tokenMissing(context);
      headers.set('authorization', `Bearer ${this.#token}`);
    }
    let res: Response;
    try {
      res = await this.#fetch(`${this.url}${path}`, { ...rest, headers });
    } catch (err) {
      throw new RegistryError('REGISTRY_UNREACHABLE', `${context}: ${this.url}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (res.ok || res.status === 304) return res;
    const text = await res.text().catch(() => '');
    let code = `HTTP_${res.status}`;
    let message = text.slice(0, 200) || res.statusText;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not our JSON error (a proxy in between): keep the status and the text.
    }
    // The edge's messages start with their own context, often the same words as ours: say it once.
    const said = message.startsWith(`${context}:`) ? message : `${context}: ${message}`;
    throw new RegistryError(code, `${said} (HTTP ${res.status})`);
  }

  async #json<T>(context: string, path: string, init: RequestInit & { auth?: boolean } = {}): Promise<T> {
    const res = await this.#send(context, path, init);
    return (await res.json()) as T;
  }

  #jsonInit(method: string, body: unknown): RequestInit & { auth: boolean } {
    return {
      method,
      auth: true,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    };
  }

  /** A JSON call on the edge's API for clients of other areas (fleet); `body` is sent as JSON. */
  /** An authenticated call whose answer has no body (204). */
  async requestNoContent(context: string, method: string, path: string): Promise<void> {
    await this.#send(context, path, { method, auth: true });
  }

  requestJson<T>(context: string, method: string, path: string, body?: unknown): Promise<T> {
    if (body === undefined) return this.#json(context, path, { method, auth: true });
    return this.#json(context, path, this.#jsonInit(method, body));
  }

  listPackages(query: PackageQuery = {}): Promise<{ packages: PackageSummary[] }> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size > 0 ? `?${params}` : '';
    return this.#json('list packages', `/v1/packages${qs}`);
  }

  getPackage(ns: string, name: string): Promise<PackageInfo> {
    return this.#json(`info ${ns}/${name}`, `/v1/packages/${seg(ns)}/${seg(name)}`);
  }

  listVersions(ns: string, name: string): Promise<VersionInfo[]> {
    return this.#json(`versions ${ns}/${name}`, `/v1/packages/${seg(ns)}/${seg(name)}/versions`);
  }

  getVersion(ns: string, name: string, version: string): Promise<VersionInfo> {
    return this.#json(
      `info ${ns}/${name}@${version}`,
      `/v1/packages/${seg(ns)}/${seg(name)}/versions/${seg(version)}`,
    );
  }

  async getManifest(ns: string, name: string, version: string): Promise<Buffer> {
    const path = `/v1/packages/${seg(ns)}/${seg(name)}/versions/${seg(version)}/manifest`;
    const res = await this.#send(`manifest ${ns}/${name}@${version}`, path);
    return Buffer.from(await res.arrayBuffer());
  }

  getBundle(ns: string, name: string, version: string): Promise<unknown> {
    const path = `/v1/packages/${seg(ns)}/${seg(name)}/versions/${seg(version)}/bundle`;
    return this.#json(`bundle ${ns}/${name}@${version}`, path);
  }

  /** The archive bytes of a published digest. Callers verify the digest themselves. */
  async download(digest: string): Promise<Buffer> {
    const res = await this.#send(`download ${digest}`, `/v1/blobs/${seg(digest)}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** The signed index (a Sigstore bundle) of the whole registry or one namespace; verify it with sdk trust. */
  getIndex(namespace?: string): Promise<unknown> {
    return this.#json(
      `index ${namespace ?? '(all)'}`,
      namespace ? `/v1/index/${seg(namespace)}` : '/v1/index',
    );
  }

  getRegistryKey(): Promise<RegistryKeyInfo> {
    return this.#json('registry key', '/v1/keys/registry');
  }

  async publish(input: PublishInput): Promise<VersionInfo> {
    const { namespace: ns, name, version, archive } = input;
    const total = archive.byteLength;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) {
          controller.close();
          return;
        }
        const chunk = archive.subarray(sent, sent + UPLOAD_CHUNK);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        input.onProgress?.(sent, total);
      },
    });
    const path = `/v1/packages/${seg(ns)}/${seg(name)}/versions/${seg(version)}`;
    return this.#json(`publish ${ns}/${name}@${version}`, path, {
      method: 'PUT',
      auth: true,
      body,
      duplex: 'half',
      headers: {
        'content-type': 'application/gzip',
        'content-length': String(total),
        'bpfleet-bundle': Buffer.from(JSON.stringify(input.bundle)).toString('base64'),
      },
    } as RequestInit & { auth: boolean });
  }

  /** Moves a channel with a publisher-signed move statement (see signed-channels.ts). */
  setChannel(ns: string, name: string, channel: string, statement: unknown): Promise<Record<string, string>> {
    const path = `/v1/packages/${seg(ns)}/${seg(name)}/channels/${seg(channel)}`;
    return this.#json(`channel ${ns}/${name}#${channel}`, path, this.#jsonInit('PUT', { statement }));
  }

  listChannels(ns: string, name: string): Promise<Record<string, string>> {
    return this.#json(`channels ${ns}/${name}`, `/v1/packages/${seg(ns)}/${seg(name)}/channels`);
  }

  /** The latest publisher statement per stream (`channel:<name>`, `version:<v>`) with its serial. */
  listStatements(ns: string, name: string): Promise<StoredStatementInfo[]> {
    return this.#json(`statements ${ns}/${name}`, `/v1/packages/${seg(ns)}/${seg(name)}/statements`);
  }

  /** Yanks with a publisher-signed statement, or (admin token, no statement) as an emergency stop. */
  yank(
    ns: string,
    name: string,
    version: string,
    change: { statement?: unknown; reason?: string },
  ): Promise<VersionInfo> {
    const path = `/v1/packages/${seg(ns)}/${seg(name)}/versions/${seg(version)}/yank`;
    const body =
      change.statement !== undefined
        ? { statement: change.statement }
        : change.reason
          ? { reason: change.reason }
          : {};
    return this.#json(`yank ${ns}/${name}@${version}`, path, this.#jsonInit('PUT', body));
  }

  unyank(ns: string, name: string, version: string, statement: unknown): Promise<VersionInfo> {
    const path = `/v1/packages/${seg(ns)}/${seg(name)}/versions/${seg(version)}/yank`;
    return this.#json(`unyank ${ns}/${name}@${version}`, path, this.#jsonInit('DELETE', { statement }));
  }

  /** Who the token belongs to; HTTP_401 (UNAUTHORIZED) for a wrong one. */
  whoami(): Promise<{ role: 'admin' | 'publisher'; namespace?: string; tokenId?: string }> {
    return this.#json('check token', '/v1/whoami', { auth: true });
  }

  listNamespaces(): Promise<Array<{ name: string; createdAt: string }>> {
    return this.#json('list namespaces', '/v1/namespaces');
  }

  createNamespace(name: string): Promise<{ name: string; createdAt: string }> {
    return this.#json(`create namespace ${name}`, '/v1/namespaces', this.#jsonInit('POST', { name }));
  }

  addPublisherKey(ns: string, publicKeyPem: string): Promise<PublisherKeyInfo> {
    return this.#json(
      `add key to ${ns}`,
      `/v1/namespaces/${seg(ns)}/keys`,
      this.#jsonInit('POST', { publicKeyPem }),
    );
  }

  listPublisherKeys(ns: string): Promise<PublisherKeyInfo[]> {
    return this.#json(`keys of ${ns}`, `/v1/namespaces/${seg(ns)}/keys`);
  }

  createToken(ns: string, label = ''): Promise<IssuedToken> {
    return this.#json(
      `issue token for ${ns}`,
      `/v1/namespaces/${seg(ns)}/tokens`,
      this.#jsonInit('POST', { label }),
    );
  }

  listTokens(ns: string): Promise<PublishTokenInfo[]> {
    return this.#json(`tokens of ${ns}`, `/v1/namespaces/${seg(ns)}/tokens`, { auth: true });
  }

  async revokeToken(ns: string, id: string): Promise<void> {
    await this.#send(`revoke token ${id}`, `/v1/namespaces/${seg(ns)}/tokens/${seg(id)}`, {
      method: 'DELETE',
      auth: true,
    });
  }
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  return new RegistryClient(options);
}
