// Publisher keys the edge accepts once a root is published: the namespace's keys that the newest root also lists.
import { peekRoot } from '@bpfleet/sdk/trust';
import type { Catalog, PublisherKey } from '../catalog/catalog.js';
import { LATEST_ROOT_SETTING, rootSetting } from './root-service.js';

type Settings = Pick<Catalog, 'getSetting' | 'listPublisherKeys'>;

// The newest root parsed once (keyed by its text, so several catalogs in one process never mix).
let cached: { text: string; keyIds: Map<string, Set<string>> } | undefined;

/**
 * `catalog.listPublisherKeys(namespace)`, narrowed to the keys the newest root trusts for it: a key the root
 * revoked no longer publishes, moves channels or yanks, even while it is still registered for the namespace.
 */
export async function trustedPublisherKeys(catalog: Settings, namespace: string): Promise<PublisherKey[]> {
  const keys = await catalog.listPublisherKeys(namespace);
  const version = await catalog.getSetting(LATEST_ROOT_SETTING);
  if (version === undefined) return keys;
  const text = await catalog.getSetting(rootSetting(Number(version)));
  if (text === undefined) return keys;
  if (cached?.text !== text) {
    const root = peekRoot(JSON.parse(text));
    cached = {
      text,
      keyIds: new Map(
        Object.entries(root.roles.publishers).map(([ns, r]) => [ns, new Set(r.keys.map((k) => k.keyId))]),
      ),
    };
  }
  const allowed = cached.keyIds.get(namespace);
  return keys.filter((k) => allowed?.has(k.keyId) === true);
}
