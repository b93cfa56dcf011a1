// A local device's network, under fixed recognisable names so a crashed run's leftovers are found and removed:
// the device namespace (uplink veth to this namespace, `wan0` veth to a peer namespace), the peer namespace
// that sends traffic. Addresses only from 198.18.0.0/15, one /24 per network.
import { execFileSync, spawnSync } from 'node:child_process';

export interface NetworkNames {
  /** Namespace names, e.g. `bpfleet-qs-dev` / `bpfleet-qs-peer`. */
  deviceNs: string;
  peerNs: string;
  /** This namespace's end of the uplink veth (at most 15 characters). */
  uplink: string;
  /** Third octet of 198.18.<octet>.0/24 (the e2e suite uses 0-249). */
  octet: number;
}

export interface LocalDeviceNetwork extends NetworkNames {
  /** This namespace's end of the uplink: the edge listens here, never on 0.0.0.0. */
  edgeAddr: string;
  deviceAddr: string;
  /** The interface programs attach to (inside the device namespace) and its address. */
  wan: string;
  wanAddr: string;
  peerAddr: string;
  remove(): void;
}

const WAN = 'wan0';

/** Deletes the namespaces and the uplink veth of these names, whether or not they exist. */
export function removeNetwork(names: NetworkNames): void {
  spawnSync('ip', ['link', 'del', names.uplink], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', names.deviceNs], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', names.peerNs], { stdio: 'ignore' });
}

export function networkExists(names: NetworkNames): boolean {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const present = new Set(list.split('\n').map((l) => l.split(' ')[0]));
  return present.has(names.deviceNs) || present.has(names.peerNs);
}

export function createLocalDeviceNetwork(names: NetworkNames): LocalDeviceNetwork {
  const net = `198.18.${names.octet}`;
  const addrs = { edgeAddr: `${net}.1`, deviceAddr: `${net}.2`, wanAddr: `${net}.5`, peerAddr: `${net}.6` };
  const run = (args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
  const inNs = (ns: string, args: string[]) => run(['nsenter', `--net=/run/netns/${ns}`, ...args]);
  try {
    run(['ip', 'netns', 'add', names.deviceNs]);
    run(['ip', 'netns', 'add', names.peerNs]);
    run([
      'ip',
      'link',
      'add',
      names.uplink,
      'type',
      'veth',
      'peer',
      'name',
      'uplink',
      'netns',
      names.deviceNs,
    ]);
    run(['ip', 'addr', 'add', `${addrs.edgeAddr}/30`, 'dev', names.uplink]);
    run(['ip', 'link', 'set', names.uplink, 'up']);
    inNs(names.deviceNs, ['ip', 'link', 'set', 'lo', 'up']);
    inNs(names.deviceNs, ['ip', 'addr', 'add', `${addrs.deviceAddr}/30`, 'dev', 'uplink']);
    inNs(names.deviceNs, ['ip', 'link', 'set', 'uplink', 'up']);
    inNs(names.deviceNs, [
      'ip',
      'link',
      'add',
      WAN,
      'type',
      'veth',
      'peer',
      'name',
      WAN,
      'netns',
      names.peerNs,
    ]);
    inNs(names.deviceNs, ['ip', 'addr', 'add', `${addrs.wanAddr}/30`, 'dev', WAN]);
    inNs(names.deviceNs, ['ip', 'link', 'set', WAN, 'up']);
    inNs(names.peerNs, ['ip', 'addr', 'add', `${addrs.peerAddr}/30`, 'dev', WAN]);
    inNs(names.peerNs, ['ip', 'link', 'set', WAN, 'up']);
    inNs(names.peerNs, ['ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    removeNetwork(names);
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`device network ${names.deviceNs}: ${stderr || (err as Error).message}`, { cause: err });
  }
  return { ...names, ...addrs, wan: WAN, remove: () => removeNetwork(names) };
}
