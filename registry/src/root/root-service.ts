// The edge's chain of roots: each published root verified against the stored newest one, kept, and announced.
import { TrustError } from '@bpfleet/sdk/errors';
import { peekRoot, type RootDocument, verifyFirstRoot, verifyNextRoot } from '@bpfleet/sdk/trust';
import type { Catalog } from '../catalog/catalog.js';

/** Catalog settings: `root.latest` the newest version, `root.v<N>` each version's bundle (JSON text). */
export const LATEST_ROOT_SETTING = 'root.latest';
export const rootSetting = (version: number) => `root.v${version}`;
const LATEST = LATEST_ROOT_SETTING;
const versionKey = rootSetting;

export interface RootServiceOptions {
  catalog: Pick<Catalog, 'getSetting' | 'setSetting'>;
  /** The key id the edge signs the index with: it must be in every published root's registry role. */
  registryKeyId: string;
  now: () => Date;
  /** Tells devices a new version exists (the retained MQTT announcement); absent in a registry-only edge. */
  announce?: (version: number) => Promise<void>;
  /** The newest root, at start and after each publish (the edge verifies policies with its operators role). */
  onRoot?: (root: RootDocument) => void;
}

export interface PublishedRoot {
  version: number;
  expires: string;
  root: RootDocument;
}

export interface RootService {
  latestVersion(): Promise<number | undefined>;
  /** The stored bundle text of `version`, exactly as published. */
  get(version: number): Promise<string | undefined>;
  /** Verifies `bundle` as the next root (or the first), stores and announces it. */
  publish(bundle: unknown): Promise<PublishedRoot>;
  /**
   * At start: hands the newest stored root to onRoot and announces it again (the embedded broker forgets retained
   * messages on restart); throws
   * ROOT_REGISTRY_KEY_MISSING when that root does not list the key this edge now signs the index with.
   */
  resume(): Promise<void>;
}

export function createRootService(o: RootServiceOptions): RootService {
  const latestVersion = async () => {
    const text = await o.catalog.getSetting(LATEST);
    return text === undefined ? undefined : Number(text);
  };
  const get = (version: number) => o.catalog.getSetting(versionKey(version));
  // One publish at a time in this process: two racing publishes of the same next version would both pass.
  let queue: Promise<unknown> = Promise.resolve();

  const publishNow = async (bundle: unknown): Promise<PublishedRoot> => {
    const now = o.now();
    const latest = await latestVersion();
    let root: RootDocument;
    if (latest === undefined) {
      root = await verifyFirstRoot(bundle, now);
    } else {
      const stored = await get(latest);
      if (stored === undefined) throw new Error(`root store: version ${latest} is the latest but is missing`);
      // Verified when it was published; the catalog is the edge's own storage.
      root = await verifyNextRoot(peekRoot(JSON.parse(stored)), bundle, now);
    }
    if (!root.roles.registry.keys.some((k) => k.keyId === o.registryKeyId)) {
      throw new TrustError(
        'ROOT_REGISTRY_KEY_MISSING',
        `publish root v${root.version}: the registry role does not list this edge's index key ${o.registryKeyId}; devices would refuse every index it signs. Add the key (or start the edge with a listed key) and sign again`,
      );
    }
    await o.catalog.setSetting(versionKey(root.version), JSON.stringify(bundle));
    await o.catalog.setSetting(LATEST, String(root.version));
    o.onRoot?.(root);
    await o.announce?.(root.version);
    return { version: root.version, expires: root.expires, root };
  };

  return {
    latestVersion,
    get,
    publish(bundle) {
      const run = queue.then(
        () => publishNow(bundle),
        () => publishNow(bundle),
      );
      queue = run.catch(() => undefined);
      return run;
    },
    async resume() {
      const latest = await latestVersion();
      if (latest === undefined) return;
      const text = await get(latest);
      const root = text === undefined ? undefined : peekRoot(JSON.parse(text));
      if (root) o.onRoot?.(root);
      await o.announce?.(latest);
      if (root && !root.roles.registry.keys.some((k) => k.keyId === o.registryKeyId)) {
        throw new TrustError(
          'ROOT_REGISTRY_KEY_MISSING',
          `root v${latest}: its registry role does not list this edge's index key ${o.registryKeyId}; devices refuse every index until a root that lists it is published`,
        );
      }
    },
  };
}
