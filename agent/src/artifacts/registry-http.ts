// Keep-alive GETs to the registry over node:http(s): the index, blob and bundle requests of a pass share one
// socket, and each costs a fraction of fetch()'s per-request machinery (a third of a device's CPU in a rollout).
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Aborts the request, or the body while it is read (the body's iterator then throws). */
  signal?: AbortSignal;
  /**
   * Gives up when the whole response (body included) has not arrived in this time. Cheaper than an
   * `AbortSignal.timeout`, whose timer outlives the request and then fails it with a costly error.
   */
  timeoutMs?: number;
}

export interface RegistryHttpOptions {
  /** Sockets per registry origin; the reconcile loop asks one thing at a time. */
  maxSockets?: number;
  /** For https://: the CA that verifies the registry (else the system's) and the device's client certificate. */
  tls?: { ca?: string; cert?: string; key?: string };
}

// A keep-alive socket the server closed while it was idle fails at once; the request never reached a handler.
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);

export class RegistryHttp {
  private readonly http: http.Agent;
  private https: https.Agent;
  private readonly agentOptions: https.AgentOptions;

  constructor(options: RegistryHttpOptions = {}) {
    this.agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 2, scheduling: 'lifo' as const };
    this.http = new http.Agent(this.agentOptions);
    this.https = new https.Agent({ ...this.agentOptions, ...options.tls });
  }

  /** A renewed client certificate: new connections use it; requests in flight finish on theirs. */
  setTls(tls: NonNullable<RegistryHttpOptions['tls']>): void {
    const old = this.https;
    this.https = new https.Agent({ ...this.agentOptions, ...tls });
    // Idle sockets go now; busy ones finish their request and close with it (the old agent keeps no free ones).
    for (const sockets of Object.values(old.freeSockets))
      for (const socket of sockets ?? []) socket.destroy();
    old.options.keepAlive = false;
  }

  /** Resolves once the response headers arrived; the caller reads the body or calls `discard`. */
  get(url: string, options: HttpGetOptions = {}): Promise<IncomingMessage> {
    return this.attempt(new URL(url), options, true);
  }

  /** Closes the idle sockets; requests in flight finish. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private attempt(url: URL, options: HttpGetOptions, mayRetry: boolean): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).get(
        url,
        {
          agent: secure ? this.https : this.http,
          headers: options.headers ?? {},
          ...(options.signal && { signal: options.signal }),
        },
        resolve,
      );
      let timer: NodeJS.Timeout | undefined;
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        timer = setTimeout(() => request.destroy(new TimeoutError(ms)), ms);
        request.once('response', (res: IncomingMessage) => res.once('close', () => clearTimeout(timer)));
      }
      request.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (mayRetry && request.reusedSocket && STALE_SOCKET.has(err.code ?? '')) {
          resolve(this.attempt(url, options, false));
        } else reject(err);
      });
    });
  }
}

/** The whole body, refusing more than `limit` bytes (the caller's error says what was fetched). */
export async function readBody(res: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    res.destroy();
    throw new BodyTooLarge(declared, limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new BodyTooLarge(size, limit);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Lets the socket go back to the pool without reading what the server sent. */
export function discard(res: IncomingMessage): void {
  res.resume();
}

export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly ms: number) {
    super(`no complete answer in ${ms} ms`);
  }
}

export class BodyTooLarge extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${size} bytes or more, limit ${limit}`);
  }
}

/** The most telling part of a network error: its code (ECONNREFUSED, …), else its message. */
export function networkMessage(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
