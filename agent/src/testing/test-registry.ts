// A small signed-index registry over real HTTP for agent tests: index, blobs by digest (with Range), bundles.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256Digest } from '@bpfleet/sdk/digest';
import {
  INDEX_PAYLOAD_TYPE,
  type KeyPair,
  signChannelStatement,
  signDocument,
  signPackage,
  toSigningKey,
} from '@bpfleet/sdk/trust';

export interface TestVersion {
  archive: Uint8Array;
  manifestDigest: string;
  bundle: unknown;
  yanked?: boolean;
  /** Serve these bytes instead of the archive (a tampered mirror). */
  served?: Uint8Array;
}

export class TestRegistry {
  readonly packages = new Map<
    string,
    {
      versions: Map<string, TestVersion>;
      channels: Record<string, string>;
      /** The latest signed move per channel, with its serial: devices follow a channel only by these. */
      moves: Map<string, { serial: number; bundle: unknown }>;
    }
  >();
  serial = 1;
  expires = '2099-01-01T00:00:00Z';
  up = true;
  requests: string[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly registryKey: KeyPair) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      if (!this.up) return void res.writeHead(503).end();
      this.handle(req.url ?? '', req.headers.range).then(
        ({ status, headers, body }) => res.writeHead(status, headers).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /**
   * Adds a version signed by `publisher` (over the true digests) and optionally moves a channel to it with a
   * move statement signed by `mover` (the publisher unless said otherwise).
   */
  async publish(
    name: string,
    version: string,
    archive: Uint8Array,
    manifestDigest: string,
    publisher: KeyPair,
    channel?: string,
    mover: KeyPair = publisher,
  ): Promise<TestVersion> {
    const bundle = await signPackage(
      { name, version, digest: sha256Digest(archive), manifestDigest },
      toSigningKey(publisher.privateKeyPem),
    );
    let pkg = this.packages.get(name);
    if (!pkg) {
      pkg = { versions: new Map(), channels: {}, moves: new Map() };
      this.packages.set(name, pkg);
    }
    const entry: TestVersion = { archive, manifestDigest, bundle };
    pkg.versions.set(version, entry);
    if (channel) {
      const serial = (pkg.moves.get(channel)?.serial ?? 0) + 1;
      const move = await signChannelStatement(
        {
          schema: 'bpfleet.channel-statement/v1',
          package: name,
          action: 'move',
          channel,
          version,
          serial,
          issuedAt: new Date().toISOString(),
        },
        toSigningKey(mover.privateKeyPem),
      );
      pkg.moves.set(channel, { serial, bundle: move });
      pkg.channels[channel] = version;
    }
    this.serial++;
    return entry;
  }

  private async handle(
    url: string,
    range: string | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; body: string | Uint8Array }> {
    if (url === '/v1/index') {
      const packages: Record<string, unknown> = {};
      for (const [name, p] of this.packages) {
        const versions: Record<string, unknown> = {};
        for (const [v, e] of p.versions) {
          versions[v] = {
            digest: sha256Digest(e.archive),
            size: e.archive.length,
            manifestDigest: e.manifestDigest,
            yanked: e.yanked ?? false,
          };
        }
        const statements = [...p.moves.values()].map((m) => m.bundle);
        packages[name] = { versions, channels: p.channels, statements };
      }
      const doc = { schema: 'bpfleet.index/v1', serial: this.serial, expires: this.expires, packages };
      const bundle = await signDocument(
        INDEX_PAYLOAD_TYPE,
        doc,
        toSigningKey(this.registryKey.privateKeyPem),
      );
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(bundle) };
    }
    const blob = /^\/v1\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url);
    if (blob) {
      for (const p of this.packages.values()) {
        for (const e of p.versions.values()) {
          if (sha256Digest(e.archive) !== blob[1]) continue;
          const bytes = e.served ?? e.archive;
          const m = /^bytes=(\d+)-$/.exec(range ?? '');
          if (!m) return { status: 200, headers: {}, body: bytes };
          const start = Number(m[1]);
          return {
            status: 206,
            headers: { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` },
            body: bytes.subarray(start),
          };
        }
      }
      return { status: 404, headers: {}, body: '' };
    }
    const bundle = /^\/v1\/packages\/([^/]+)\/([^/]+)\/versions\/([^/]+)\/bundle$/.exec(url);
    if (bundle) {
      const e = this.packages.get(`${bundle[1]}/${bundle[2]}`)?.versions.get(decodeURIComponent(bundle[3]!));
      if (e) return { status: 200, headers: {}, body: JSON.stringify(e.bundle) };
    }
    return { status: 404, headers: {}, body: '' };
  }
}
