// The device's MQTT session: client id = device id, persistent session, QoS 1, last will, backoff reconnects.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type BackoffOptions, backoffDelay } from '../backoff.js';
import type { Logger } from '../logger.js';

export interface MqttSessionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  keepaliveSeconds: number;
  /** Retained topic that carries `online` while connected and `offline` as the last will. */
  presenceTopic: string;
  subscriptions: string[];
  backoff: BackoffOptions;
  logger: Logger;
  onMessage: (topic: string, payload: Buffer) => void;
  onConnect: () => void;
  /** The connection went away (it is retried with backoff). */
  onDisconnect?: () => void;
}

export class MqttSession {
  private client: MqttClient | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private corked = false;

  constructor(private readonly options: MqttSessionOptions) {
    this.options = { ...options };
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: o.keepaliveSeconds,
      connectTimeout: 10_000,
      // Reconnects are ours, with backoff and jitter; mqtt.js only knows a fixed period.
      reconnectPeriod: 0,
      // mqtt-packet's number cache is 65,536 two-byte Buffers (6 MB of heap) to save an allocation per packet;
      // a device sends a few packets a minute.
      writeCache: false,
      will: { topic: o.presenceTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    if (o.username !== undefined) clientOptions.username = o.username;
    if (o.password !== undefined) clientOptions.password = o.password;
    if (o.ca !== undefined) clientOptions.ca = o.ca;
    if (o.cert !== undefined) clientOptions.cert = o.cert;
    if (o.key !== undefined) clientOptions.key = o.key;
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;
    client.on('connect', (connack) => {
      this.attempt = 0;
      o.logger.info('mqtt connected', { url: o.url, sessionPresent: connack.sessionPresent });
      client.subscribe(
        o.subscriptions.map((topic) => topic),
        { qos: 1 },
        (err) => {
          if (err) o.logger.warn('mqtt subscribe failed', { error: err.message });
        },
      );
      client.publish(o.presenceTopic, 'online', { qos: 1, retain: true });
      o.onConnect();
    });
    client.on('message', (topic, payload) => o.onMessage(topic, payload));
    client.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      // A broker whose certificate the configured CA does not vouch for is never trusted; say so plainly.
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        o.logger.error('mqtt TLS refused', {
          error: `${o.url}: the broker's certificate is not trusted by tls.ca (${code}): ${err.message}`,
        });
      } else o.logger.warn('mqtt error', { error: err.message });
    });
    client.on('close', () => {
      o.onDisconnect?.();
      this.scheduleReconnect();
    });
  }

  /** A renewed client certificate and key, used from the next connection on (the live one goes on). */
  setTls(tls: { cert: string; key: string }): void {
    this.options.cert = tls.cert;
    this.options.key = tls.key;
    // mqtt.js builds each reconnection's TLS socket from its options object.
    if (this.client) Object.assign(this.client.options, tls);
  }

  /** QoS 1 publish; while disconnected mqtt.js keeps it in the outgoing store and sends it on reconnect. */
  publish(topic: string, payload: string, retain = false): void {
    this.coalesce();
    this.client?.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err) this.options.logger.debug('mqtt publish failed', { topic, error: err.message });
    });
  }

  /**
   * Holds this turn's packets in the socket and sends them in one write once the turn is over: a reconcile step
   * publishes an event, then the report, back to back; one packet each costs a system call on both ends.
   */
  private coalesce(): void {
    const stream = this.client?.stream;
    if (this.corked || !stream || !('cork' in stream) || stream.destroyed) return;
    this.corked = true;
    stream.cork();
    setImmediate(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  /** Says `offline` itself (a clean stop does not fire the last will), then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      await client
        .publishAsync(this.options.presenceTopic, 'offline', { qos: 1, retain: true })
        .catch(() => {});
    }
    await client.endAsync(!client.connected);
  }

  /** Drops the connection without a DISCONNECT, as a crash would: the broker publishes the last will. */
  abort(): void {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    this.client?.end(true);
  }

  private scheduleReconnect(): void {
    const client = this.client;
    if (this.stopping || !client || this.retryTimer !== undefined) return;
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.options.logger.info('mqtt disconnected, reconnecting', { inMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopping) return;
      // Keep the stores so QoS 1 messages published while offline are delivered after reconnecting.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }
}
