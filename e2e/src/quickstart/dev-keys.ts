// Development keys (publisher and operator), made on first use and reused: for trying bpfleet, never for production.
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPrivateKey, type SigningKey, writeKeyPair } from '@bpfleet/sdk/trust';

export interface DevKey {
  name: string;
  key: SigningKey;
  privateKeyPath: string;
  publicKeyPath: string;
}

export interface DevKeys {
  publisher: DevKey;
  operator: DevKey;
  /** Names of the keys made by this call (empty when both existed). */
  created: string[];
}

export const DEV_KEY_WARNING =
  'these are DEVELOPMENT keys (dev-publisher, dev-operator), made for trying bpfleet on this machine: never trust them in production';

const exists = (path: string) =>
  access(path, constants.F_OK).then(
    () => true,
    () => false,
  );

async function loadOrCreate(dir: string, name: string, created: string[]): Promise<DevKey> {
  const privateKeyPath = join(dir, `${name}.key`);
  if (!(await exists(privateKeyPath))) {
    try {
      await writeKeyPair(dir, name);
      created.push(name);
    } catch (err) {
      // Another run (npm start beside npm run demo) made it first: use theirs.
      if (!(await exists(privateKeyPath))) throw err;
    }
  }
  return {
    name,
    key: await readPrivateKey(privateKeyPath),
    privateKeyPath,
    publicKeyPath: join(dir, `${name}.pub`),
  };
}

export async function loadOrCreateDevKeys(dir: string): Promise<DevKeys> {
  const created: string[] = [];
  const publisher = await loadOrCreate(dir, 'dev-publisher', created);
  const operator = await loadOrCreate(dir, 'dev-operator', created);
  if (created.length > 0) await writeFile(join(dir, 'README'), `${DEV_KEY_WARNING}\n`);
  return { publisher, operator, created };
}
