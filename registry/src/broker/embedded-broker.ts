// The embedded MQTT broker (aedes) with the fleet's access control: the edge's default broker.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { type PeerCertificate, peerCertificate } from '../tls/peer-certificate.js';
import { type BrokerIdentity, decidePublish, decideSubscribe } from './access-policy.js';
import { type BrokerAuthenticator, usernameOf } from './credentials.js';
import { GuardedSocket } from './guarded-socket.js';
import { DEFAULT_PACKET_LIMITS, judgeFrame, type PacketLimits } from './packet-limits.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from './rate-limiter.js';

export interface BrokerLogger {
  warn(message: string): void;
}

export interface EmbeddedBrokerOptions {
  authenticator: BrokerAuthenticator;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger?: BrokerLogger;
  /** Largest payload per topic kind (DEFAULT_PACKET_LIMITS). */
  limits?: PacketLimits;
  /** Per-device message rate (DEFAULT_RATE_LIMIT). */
  rateLimit?: RateLimitOptions;
  /** Told of what the broker refused or dropped (metrics, device events). */
  observer?: BrokerObserver;
  /**
   * MQTT over TLS (PEM): the server's certificate and key, and the device CA whose client certificates identify
   * devices (CN = device id); a client without one may still log in with a password.
   */
  tls?: { cert: string; key: string; ca: string };
}

export interface BrokerObserver {
  /** A packet over its limit (the connection is closed before its body is read). */
  packetRefused?(client: string, reason: string): void;
  /** A device message dropped by the rate limit. */
  messageDropped?(deviceId: string): void;
  /** A device went over its rate (once per episode), or came back under it after `dropped` drops. */
  rateLimited?(deviceId: string, episode: { started: true } | { started: false; dropped: number }): void;
}

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  readonly connectedClients: number;
  /** An in-process connection to the broker (the edge's own controller: no port, no TLS to verify). */
  connectLocal(): Duplex;
  /** Closes the live session of `clientId` at once (a deleted or disabled device); false when none. */
  disconnect(clientId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Where a rate-limited message goes: acknowledged (no QoS 1 resend loop) but delivered to nobody. */
const DROPPED_TOPIC = '$bpfleet/dropped';

// aedes return codes of CONNACK (MQTT 3.1.1): 2 identifier rejected, 4 bad credentials.
function authError(message: string, returnCode: 2 | 4): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const identities = new WeakMap<Client, BrokerIdentity>();
  // The frame guard judges packets before aedes parses them, so it knows a client by its connection.
  const connectionIdentities = new WeakMap<Duplex, BrokerIdentity>();
  const logger = options.logger ?? { warn: () => {} };
  const observer = options.observer ?? {};
  const limits = options.limits ?? DEFAULT_PACKET_LIMITS;
  const rate = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const rates = new RateLimiter(rate);
  const rateText = `${rate.perSecond} msg/s (burst ${rate.burst})`;
  const broker = await Aedes.createBroker({
    drainTimeout: 30_000,
    maxClientsIdLength: 128,
    authenticate(client, username, password, done) {
      const peer = peerCertificates.get(client.conn as Duplex);
      const login = peer
        ? certificateLogin(client.id, username, peer)
        : passwordLogin(client.id, username, password);
      login.then(
        (identity) => {
          identities.set(client, identity);
          connectionIdentities.set(client.conn as Duplex, identity);
          done(null, true);
        },
        (err: AuthenticateError) =>
          done(err.returnCode ? err : authError(`authentication failed: ${String(err)}`, 4), false),
      );
    },
    authorizePublish(client, packet, done) {
      // Messages the broker itself publishes (client null, e.g. $SYS) are not client input.
      if (!client) return done(null);
      const identity = identities.get(client);
      const decision = identity
        ? decidePublish(identity, packet.topic, packet.retain)
        : { allowed: false, reason: 'not authenticated' };
      if (!decision.allowed) {
        logger.warn(`mqtt: refused publish by ${client.id} to ${packet.topic}: ${decision.reason}`);
        return done(new Error(decision.reason));
      }
      if (identity?.role === 'device' && !allowedByRate(identity.deviceId)) {
        packet.topic = DROPPED_TOPIC;
        packet.payload = Buffer.alloc(0);
        packet.retain = false;
      }
      done(null);
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
  async function passwordLogin(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerIdentity> {
    if (!username || !password) throw authError('username and password required', 4);
    const identity = await options.authenticator.authenticate(username, password.toString('utf8'));
    if (!identity) throw authError(`bad credentials for ${username}`, 4);
    // The client id is the device's name on the topic tree: it must be the authenticated one.
    if (clientId !== username) throw authError(`client id must equal username ${username}`, 2);
    return identity;
  }
  /** A device CA certificate names the device; the edge must still hold that key for it (deleted: refused). */
  async function certificateLogin(
    clientId: string,
    username: string | undefined,
    peer: PeerCertificate,
  ): Promise<BrokerIdentity> {
    const cn = peer.commonName;
    if (username && username !== cn) throw authError(`certificate of ${cn} used as username ${username}`, 4);
    if (clientId !== cn) throw authError(`certificate of ${cn} used under client id ${clientId}`, 2);
    const identity = await options.authenticator.authenticateCertificate?.(cn, peer.credentialHash);
    if (!identity) throw authError(`certificate of ${cn}: not a registered device with this key`, 4);
    return identity;
  }
  function allowedByRate(deviceId: string): boolean {
    const decision = rates.take(deviceId);
    if (decision.allowed) {
      if (decision.episodeEnded) {
        logger.warn(
          `mqtt: device ${deviceId} back under ${rateText}: ${decision.episodeEnded.dropped} dropped`,
        );
        observer.rateLimited?.(deviceId, { started: false, dropped: decision.episodeEnded.dropped });
      }
      return true;
    }
    observer.messageDropped?.(deviceId);
    if (decision.episodeStarted) {
      logger.warn(`mqtt: device ${deviceId} over ${rateText}: dropping its messages`);
      observer.rateLimited?.(deviceId, { started: true });
    }
    return false;
  }

  const peerCertificates = new WeakMap<Duplex, PeerCertificate>();
  const handle = (socket: Socket, peer?: PeerCertificate) => {
    const guarded: GuardedSocket = new GuardedSocket(
      socket,
      (header) => judgeFrame(header, connectionIdentities.get(guarded), limits),
      (reason) => {
        const who = connectionIdentities.get(guarded);
        const name = who ? usernameOf(who) : (socket.remoteAddress ?? '?');
        logger.warn(`mqtt: closed ${name}: ${reason}`);
        observer.packetRefused?.(name, reason);
      },
    );
    if (peer) peerCertificates.set(guarded, peer);
    broker.handle(guarded);
  };
  const tls = options.tls;
  const server: Server = tls
    ? createTlsServer(
        // Asked for, not required: passwords stay possible; an unverified certificate is simply not an identity.
        { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false },
        (socket: TLSSocket) => handle(socket, peerCertificate(socket)),
      )
    : createServer((socket) => handle(socket));
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('mqtt: broker did not bind a TCP port');
  const host = options.host ?? '127.0.0.1';
  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    port: address.port,
    get connectedClients() {
      return broker.connectedClients;
    },
    connectLocal() {
      const toBroker = new PassThrough();
      const toClient = new PassThrough();
      broker.handle(Duplex.from({ readable: toBroker, writable: toClient }));
      return Duplex.from({ readable: toClient, writable: toBroker });
    },
    async disconnect(clientId) {
      rates.forget(clientId);
      // aedes keeps live clients by id; its typings do not declare the table.
      const client = (broker as unknown as { clients: Record<string, Client | undefined> }).clients[clientId];
      if (!client) return false;
      await new Promise<void>((resolve) => client.close(() => resolve()));
      return true;
    },
    async close() {
      // aedes closes its client connections; the server then finishes once they are gone.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
