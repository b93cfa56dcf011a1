// The device certificate renewed before it expires: when less than a third of its lifetime is left, a new key is
// made here, certified by the edge over HTTPS (authenticated by the certificate still held), and written in place.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { AgentConfig, TlsMaterial } from '../config/agent-config.js';
import type { Logger } from '../logger.js';

export interface CertificateRenewalOptions {
  registryUrl: string;
  deviceId: string;
  /** Where the certificate and key live (they are replaced there). */
  files: { cert: string; key: string };
  /** The CA, certificate and key in use now. */
  material: () => TlsMaterial;
  logger: Logger;
  /** Told of the new certificate and key (the MQTT session and the registry connection take them). */
  onRenewed: (material: TlsMaterial) => void;
  now?: () => Date;
}

export interface RenewalTiming {
  due: boolean;
  lifetimeMs: number;
  remainingMs: number;
}

/** Due when less than a third of the certificate's lifetime is left. */
export function renewalTiming(certPem: string, now: Date): RenewalTiming {
  const cert = new X509Certificate(certPem);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  const lifetimeMs = to - from;
  const remainingMs = to - now.getTime();
  return { due: remainingMs < lifetimeMs / 3, lifetimeMs, remainingMs };
}

function post(url: string, body: string, tls: TlsMaterial): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, timeout: 30_000, ...tls },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 64 * 1024) text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.once('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.once('error', reject);
    req.end(body);
  });
}

/** Written beside, then renamed: a reader sees the old file or the new one, never half of one. */
async function replace(path: string, content: string, mode: number): Promise<void> {
  await writeFile(`${path}.new`, content, { mode });
  await rename(`${path}.new`, path);
}

/** Renews when due; returns the new material, or undefined when not due. Throws with the edge's reason. */
export async function renewIfDue(o: CertificateRenewalOptions): Promise<TlsMaterial | undefined> {
  const current = o.material();
  if (!current.cert || !current.key) return undefined;
  const timing = renewalTiming(current.cert, (o.now ?? (() => new Date()))());
  if (!timing.due) return undefined;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const url = `${o.registryUrl}/v1/fleet/devices/${encodeURIComponent(o.deviceId)}/certificate`;
  const body = JSON.stringify({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
  const res = await post(url, body, current);
  if (res.status !== 200)
    throw new Error(`renew certificate: ${url}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
  const { certificate, notAfter } = JSON.parse(res.text) as { certificate: string; notAfter: string };
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // Key, then certificate: a crash between the two renames leaves a mismatched pair (the edge holds only the new
  // key by now) and the device must be registered again; a journal that finishes the pair at start is left to do.
  await replace(o.files.key, key, 0o600);
  await replace(o.files.cert, certificate, 0o644);
  o.logger.info('device certificate renewed', { notAfter, remainingMs: timing.remainingMs });
  const material = { ...current, cert: certificate, key };
  o.onRenewed(material);
  return material;
}

/** Checks at start and then every twelfth of the lifetime (5 s to 1 h); failures are logged and retried. */
export function startCertificateRenewal(o: CertificateRenewalOptions): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const interval = () => {
    const cert = o.material().cert;
    const lifetime = cert ? renewalTiming(cert, new Date()).lifetimeMs : 3_600_000;
    return Math.min(3_600_000, Math.max(5_000, Math.floor(lifetime / 12)));
  };
  const tick = () => {
    renewIfDue(o)
      .catch((err: unknown) =>
        o.logger.warn('device certificate renewal failed', { error: (err as Error).message }),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, interval()).unref();
      });
  };
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** With a device certificate over https, it is renewed before expiry; the MQTT session and `http` take it. */
export function renewDeviceCertificate(
  config: AgentConfig,
  session: { setTls(tls: { cert: string; key: string }): void },
  http: { setTls(tls: TlsMaterial): void },
  logger: Logger,
): { stop(): void } | undefined {
  const files = config.tls;
  if (!files?.cert || !files.key || !config.registry.url.startsWith('https:')) return undefined;
  let material = config.registry.tls ?? {};
  return startCertificateRenewal({
    registryUrl: config.registry.url,
    deviceId: config.deviceId,
    files: { cert: files.cert, key: files.key },
    material: () => material,
    logger,
    onRenewed: (renewed) => {
      material = renewed;
      http.setTls(renewed);
      if (renewed.cert && renewed.key) session.setTls({ cert: renewed.cert, key: renewed.key });
    },
  });
}
