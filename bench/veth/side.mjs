// One process per namespace of the veth bench (an interface attaches only from inside its netns): loads the programs
// of its side once, then attaches and detaches variants on command, one JSON line in and one out.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const { role, iface, root, objects, suites } = JSON.parse(process.env.VETH_SIDE);
const bpf = await import(join(root, 'sdk/dist/bpf/index.js'));
const collections = [];

const load = async (key, options) => {
  const coll = await bpf.loadCollection(new Uint8Array(readFileSync(objects[key])), options);
  collections.push(coll);
  return coll;
};
const baselines =
  role === 'receiver'
    ? {
        'xdp-drop': (await load('xdpDrop')).program('xdp_drop'),
        'xdp-pass': (await load('xdpPass')).program('xdp_pass'),
      }
    : {};

/** What a suite's side function gets: loading, attaching on this side's interface, reading counters. */
const ctx = {
  role,
  iface,
  bpf,
  load,
  xdp: (program) => program.attach({ kind: 'xdp', interface: iface, mode: 'driver' }),
  tcx: (program, direction) => program.attach({ kind: 'tcx', interface: iface, direction }),
  baseline: (name) => ctx.xdp(baselines[name]),
  /** This process's cgroup v2 id; the sender it spawns (and so its socket) sits in the same cgroup. */
  ownCgroupId() {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return BigInt(statSync(join('/sys/fs/cgroup/unified', line.slice(3))).ino);
  },
  /** Sums per-CPU array slots ({name: slot}); throws unless every slot in `nonZero` counted something. */
  counted(map, slots, nonZero = Object.keys(slots)) {
    const counts = {};
    for (const [name, slot] of Object.entries(slots)) {
      const values = map.lookupPerCpu(bpf.u32(slot)) ?? [];
      counts[name] = Number(values.reduce((sum, v) => sum + bpf.readU64(v), 0n));
    }
    const idle = nonZero.filter((name) => counts[name] === 0);
    if (idle.length > 0) throw new Error(`${map.name}: nothing counted as ${idle.join(', ')}`);
    return counts;
  },
};

const prepared = new Map();
for (const path of suites) {
  const suite = (await import(path)).default;
  for (const variant of suite.variants) {
    const side = variant[role];
    if (typeof side === 'string') {
      if (!baselines[side]) throw new Error(`${variant.key}: no baseline ${side} on the ${role}`);
      prepared.set(variant.key, { attach: async () => [await ctx.baseline(side)] });
    } else if (side) {
      prepared.set(variant.key, await side(ctx));
    } else if (role === 'receiver') {
      throw new Error(`${variant.key}: every variant says what the receiver runs`);
    }
  }
}

let links = [];
const commands = {
  async attach({ key }) {
    const side = prepared.get(key);
    if (side) links = await side.attach();
    return {};
  },
  detach() {
    for (const link of links) link.close();
    links = [];
    return {};
  },
  rx() {
    const line = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .find((l) => l.trim().startsWith(`${iface}:`));
    return { rx: Number(line.split(':')[1].trim().split(/\s+/)[1]) };
  },
  verify() {
    const counted = {};
    for (const [key, side] of prepared) if (side.verify) counted[key] = side.verify();
    return { counted };
  },
  close() {
    commands.detach();
    for (const coll of collections) coll.close();
    return {};
  },
};

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  try {
    process.stdout.write(`${JSON.stringify(await commands[request.op](request))}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: `${request.op} on the ${role}: ${e.message}` })}\n`);
  }
  if (request.op === 'close') break;
}
