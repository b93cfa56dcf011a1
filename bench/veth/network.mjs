// The veth bench's network: a sender and a receiver namespace joined by one veth pair (198.18.240.0/30), removed after.
import { execFileSync, spawnSync } from 'node:child_process';

// 198.18.240-242.x: used by no test, demo or other benchmark (quickstart 250-252, agent bench 255, fixtures 198.19).
export const VETH = {
  senderAddress: '198.18.240.1',
  receiverAddress: '198.18.240.2',
  /** Traffic goes here: routed to the receiver, which does not own it, so what it passes up is dropped by routing. */
  unownedAddress: [198, 18, 241, 9],
  unownedPrefix: '198.18.241.0/24',
  ueAddress: [198, 18, 242, 5],
  senderIface: 'vb-send',
  receiverIface: 'vb-recv',
};

const inNs = (name, ...args) => execFileSync('nsenter', [`--net=/run/netns/${name}`, ...args]);

/** Creates both namespaces and the pair; on any failure removes what it made before throwing. */
export function createVethNetwork(tag) {
  const sender = `bf-bench-${tag}-vsend`;
  const receiver = `bf-bench-${tag}-vrecv`;
  const remove = () => {
    spawnSync('ip', ['netns', 'del', sender]);
    spawnSync('ip', ['netns', 'del', receiver]);
  };
  try {
    execFileSync('ip', ['netns', 'add', sender]);
    execFileSync('ip', ['netns', 'add', receiver]);
    execFileSync('ip', [
      '-n',
      sender,
      'link',
      'add',
      VETH.senderIface,
      'type',
      'veth',
      'peer',
      'name',
      VETH.receiverIface,
      'netns',
      receiver,
    ]);
    inNs(sender, 'ip', 'addr', 'add', `${VETH.senderAddress}/30`, 'dev', VETH.senderIface);
    inNs(receiver, 'ip', 'addr', 'add', `${VETH.receiverAddress}/30`, 'dev', VETH.receiverIface);
    for (const [ns, iface] of [
      [sender, VETH.senderIface],
      [receiver, VETH.receiverIface],
      [sender, 'lo'],
      [receiver, 'lo'],
    ])
      inNs(ns, 'ip', 'link', 'set', iface, 'up');
    // A permanent neighbour: the XDP_DROP receiver drops ARP too.
    const mac = JSON.parse(inNs(receiver, 'ip', '-j', 'link', 'show', VETH.receiverIface).toString())[0]
      .address;
    inNs(
      sender,
      'ip',
      'neigh',
      'add',
      VETH.receiverAddress,
      'lladdr',
      mac,
      'dev',
      VETH.senderIface,
      'nud',
      'permanent',
    );
    inNs(sender, 'ip', 'route', 'add', VETH.unownedPrefix, 'via', VETH.receiverAddress);
  } catch (e) {
    remove();
    throw e;
  }
  return { sender, receiver, remove };
}
