// An attacker's mirror in front of the real registry (a compromised CDN or network): forwards every request
// unless an interception for its path is set, which then answers instead.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Interception = (
  req: IncomingMessage,
  res: ServerResponse,
  upstream: () => Promise<Response>,
) => void | Promise<void>;

export interface AttackerMirror {
  url: string;
  /** Answers requests whose path matches `path` with `handler`; `undefined` forwards again. */
  intercept(path: RegExp, handler: Interception | undefined): void;
  close(): Promise<void>;
}

export async function startAttackerMirror(upstream: string, host: string): Promise<AttackerMirror> {
  const rules = new Map<string, { path: RegExp; handler: Interception }>();
  const server = createServer((req, res) => {
    const forward = () =>
      fetch(new URL(req.url ?? '/', upstream), {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            ([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'connection',
          ),
        ) as Record<string, string>,
      });
    const rule = [...rules.values()].find((r) => r.path.test(req.url ?? ''));
    const answer = rule
      ? Promise.resolve(rule.handler(req, res, forward))
      : forward().then(async (up) => {
          const headers: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== 'content-encoding' && k !== 'transfer-encoding') headers[k] = v;
          });
          res.writeHead(up.status, headers).end(Buffer.from(await up.arrayBuffer()));
        });
    answer.catch(() => res.destroy());
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    intercept(path, handler) {
      if (handler) rules.set(path.source, { path, handler });
      else rules.delete(path.source);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
