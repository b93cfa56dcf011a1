// Builds a root document from key files (`bpfleet root init`) and reads/writes root bundle files.
import { readFile, writeFile } from 'node:fs/promises';
import { BpfleetError, errorMessage } from '../../errors.js';
import { readPublicKey } from '../../trust/key-files.js';
import { parseRootDocument, ROOT_SCHEMA, type RootDocument } from '../../trust/root-document.js';
import type { TrustedKey } from '../../trust/trust-policy.js';

export interface RootKeyFiles {
  rootKey: string[];
  rootThreshold: string;
  registryKey: string[];
  operatorKey: string[];
  operatorThreshold: string;
  edgeKey?: string[];
  /** `namespace=file.pub`, repeated. */
  publisher?: string[];
  rootVersion: string;
  expiresIn: string;
}

async function keysOf(files: readonly string[]): Promise<TrustedKey[]> {
  return Promise.all(
    files.map(async (f) => {
      const { keyId, publicKeyPem } = await readPublicKey(f);
      return { keyId, publicKeyPem };
    }),
  );
}

/** The document `root init` signs: every role from public key files, checked by the root parser. */
export async function rootFromKeyFiles(o: RootKeyFiles, now = new Date()): Promise<RootDocument> {
  const publishers: Record<string, { keys: TrustedKey[] }> = {};
  for (const entry of o.publisher ?? []) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new BpfleetError('USAGE', `--publisher ${entry}: expected namespace=file.pub`);
    const ns = entry.slice(0, at);
    const keys = await keysOf([entry.slice(at + 1)]);
    publishers[ns] = { keys: [...(publishers[ns]?.keys ?? []), ...keys] };
  }
  const days = Number(o.expiresIn);
  if (!Number.isFinite(days) || days <= 0) throw new BpfleetError('USAGE', '--expires-in: expected days > 0');
  return parseRootDocument({
    schema: ROOT_SCHEMA,
    version: Number(o.rootVersion),
    expires: new Date(now.getTime() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    roles: {
      root: { keys: await keysOf(o.rootKey), threshold: Number(o.rootThreshold) },
      registry: { keys: await keysOf(o.registryKey) },
      operators: { keys: await keysOf(o.operatorKey), threshold: Number(o.operatorThreshold) },
      edge: { keys: await keysOf(o.edgeKey ?? []) },
      publishers,
    },
  });
}

export async function readRootBundle(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new BpfleetError('ROOT_UNREADABLE', `root ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

export async function writeRootBundle(file: string, bundle: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o644 });
}

/** The agent config's `trust` block for devices provisioned with this root as their first one. */
export function agentTrustOf(root: RootDocument): Record<string, unknown> {
  const { roles } = root;
  return {
    rootKeys: roles.root.keys,
    rootThreshold: roles.root.threshold,
    registryKeys: roles.registry.keys,
    operatorKeys: roles.operators.keys,
    operatorThreshold: roles.operators.threshold,
    edgeKeys: roles.edge.keys,
    publishers: Object.fromEntries(Object.entries(roles.publishers).map(([ns, r]) => [ns, r.keys])),
  };
}
