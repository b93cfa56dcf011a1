// Publishing as an author would: a namespace with the dev publisher key, signed packages, channels. Idempotent,
// so a second `npm start` on the same data reuses what the first published.
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackArchive } from '@bpfleet/sdk/archive';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { RegistryError } from '@bpfleet/sdk/errors';
import { splitPackageName } from '@bpfleet/sdk/manifest';
import { createRegistryClient, moveChannel, type RegistryClient } from '@bpfleet/sdk/registry-client';
import { type SigningKey, signPackage } from '@bpfleet/sdk/trust';

export interface SignedArchive {
  namespace: string;
  name: string;
  version: string;
  archive: Buffer;
  digest: string;
  bundle: unknown;
}

/** Signs a package archive with the publisher key (namespace, name and version from its manifest). */
export async function signArchive(archive: Buffer, publisher: SigningKey): Promise<SignedArchive> {
  const { manifest, manifestDigest } = await unpackArchive(archive);
  const digest = sha256Digest(archive);
  const bundle = await signPackage(
    { name: manifest.name, version: manifest.version, digest, manifestDigest },
    publisher,
  );
  const { namespace, name } = splitPackageName(manifest.name);
  return { namespace, name, version: manifest.version, archive, digest, bundle };
}

const isCode = (err: unknown, code: string) => err instanceof RegistryError && err.code === code;

/** Creates the namespace and trusts the publisher key for it (each only if missing); returns a publish client. */
export async function preparePublisher(
  admin: RegistryClient,
  namespace: string,
  publisherPem: string,
): Promise<RegistryClient> {
  await admin.createNamespace(namespace).catch((err: unknown) => {
    if (!isCode(err, 'NAMESPACE_EXISTS')) throw err;
  });
  const keys = await admin.listPublisherKeys(namespace);
  if (!keys.some((k) => k.publicKeyPem.trim() === publisherPem.trim())) {
    await admin.addPublisherKey(namespace, publisherPem);
  }
  const { token } = await admin.createToken(namespace, 'bpfleet quickstart');
  return createRegistryClient({ url: admin.url, token });
}

/** Publishes (unless that version is already there) and points `channel` at it with a move signed by `key`. */
export async function publishSigned(
  client: RegistryClient,
  pkg: SignedArchive,
  channel?: string,
  key?: SigningKey,
): Promise<'published' | 'already published'> {
  let outcome: 'published' | 'already published' = 'published';
  await client
    .publish({
      namespace: pkg.namespace,
      name: pkg.name,
      version: pkg.version,
      archive: pkg.archive,
      bundle: pkg.bundle,
    })
    .catch((err: unknown) => {
      if (!isCode(err, 'VERSION_EXISTS')) throw err;
      outcome = 'already published';
    });
  if (channel) {
    if (!key)
      throw new RegistryError(
        'KEY_REQUIRED',
        `channel ${pkg.namespace}/${pkg.name}#${channel}: no publisher key`,
      );
    // Idempotent: a second run on the same data signs no new move when a signed one already points there (a
    // channel set before moves were signed is signed now).
    const channels = await client.listChannels(pkg.namespace, pkg.name);
    const signed = (await client.listStatements(pkg.namespace, pkg.name)).some(
      (s) => s.stream === `channel:${channel}`,
    );
    if (channels[channel] !== pkg.version || !signed)
      await moveChannel(client, key, pkg, channel, pkg.version);
  }
  return outcome;
}

/**
 * The package `npm run build:bpf` made for each program's current manifest:
 * bpf-programs/<program>/build/<ns>-<name>-<version>.bpfleet.tgz. Archives an older build left beside it are not
 * the library any more (publishing them after the current one would move `stable` down).
 */
export async function libraryPackages(programsDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const program of (await readdir(programsDir)).sort()) {
    const manifest = await readFile(join(programsDir, program, 'manifest.json'), 'utf8').catch(
      () => undefined,
    );
    if (manifest === undefined) continue;
    const { name, version } = JSON.parse(manifest) as { name: string; version: string };
    const file = join(programsDir, program, 'build', `${name.replace('/', '-')}-${version}.bpfleet.tgz`);
    const built = await access(file).then(
      () => true,
      () => false,
    );
    if (built) found.push(file);
  }
  return found;
}

export const readArchive = (path: string) => readFile(path);
