// The registry key on disk: `<dataDir>/registry.key` (0600) and `.pub`, generated on first start.
import { join } from 'node:path';
import { readPrivateKey, type SigningKey, writeKeyPair } from '@bpfleet/sdk/trust';

export async function loadOrCreateRegistryKey(
  dataDir: string,
): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: await readPrivateKey(join(dataDir, 'registry.key')), created: false };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && cause?.code !== 'ENOENT') throw err;
  }
  await writeKeyPair(dataDir, 'registry');
  return { key: await readPrivateKey(join(dataDir, 'registry.key')), created: true };
}
