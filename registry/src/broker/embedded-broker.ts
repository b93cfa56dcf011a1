// The embedded MQTT broker (aedes) with the fleet's access control: the edge's default broker.
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { type BrokerIdentity, decidePublish, decideSubscribe } from './access-policy.js';
import type { BrokerAuthenticator } from './credentials.js';

export interface BrokerLogger {
  warn(message: string): void;
}

export interface EmbeddedBrokerOptions {
  authenticator: BrokerAuthenticator;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger?: BrokerLogger;
}

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  readonly connectedClients: number;
  close(): Promise<void>;
}

// aedes return codes of CONNACK (MQTT 3.1.1): 2 identifier rejected, 4 bad credentials.
function authError(message: string, returnCode: 2 | 4): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const identities = new WeakMap<Client, BrokerIdentity>();
  const logger = options.logger ?? { warn: () => {} };
  const broker = await Aedes.createBroker({
    drainTimeout: 30_000,
    maxClientsIdLength: 128,
    authenticate(client, username, password, done) {
      if (!username || !password) {
        done(authError('username and password required', 4), false);
        return;
      }
      options.authenticator.authenticate(username, password.toString('utf8')).then(
        (identity) => {
          if (!identity) return done(authError(`bad credentials for ${username}`, 4), false);
          // The client id is the device's name on the topic tree: it must be the authenticated one.
          if (client.id !== username)
            return done(authError(`client id must equal username ${username}`, 2), false);
          identities.set(client, identity);
          done(null, true);
        },
        (err: unknown) => done(authError(`authentication failed: ${String(err)}`, 4), false),
      );
    },
    authorizePublish(client, packet, done) {
      // Messages the broker itself publishes (client null, e.g. $SYS) are not client input.
      if (!client) return done(null);
      const identity = identities.get(client);
      const decision = identity
        ? decidePublish(identity, packet.topic)
        : { allowed: false, reason: 'not authenticated' };
      if (decision.allowed) return done(null);
      logger.warn(`mqtt: refused publish by ${client.id} to ${packet.topic}: ${decision.reason}`);
      done(new Error(decision.reason));
    },
    authorizeSubscribe(client, subscription, done) {
      const identity = identities.get(client);
      const decision = identity
        ? decideSubscribe(identity, subscription.topic)
        : { allowed: false, reason: 'not authenticated' };
      if (decision.allowed) return done(null, subscription);
      logger.warn(`mqtt: refused subscribe by ${client.id} to ${subscription.topic}: ${decision.reason}`);
      // A null subscription makes aedes answer SUBACK 0x80 (failure) instead of closing the session.
      done(null, null);
    },
  });
  const server: Server = createServer((socket) => broker.handle(socket));
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('mqtt: broker did not bind a TCP port');
  const host = options.host ?? '127.0.0.1';
  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    get connectedClients() {
      return broker.connectedClients;
    },
    async close() {
      // aedes closes its client connections; the server then finishes once they are gone.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
