// `node bench/veth/run.mjs [program …]`: packets/s through a veth pair with each data-path program attached where it
// runs (receiver XDP, sender tcx egress, receiver tcx ingress) next to bare XDP_DROP and XDP_PASS receivers, all in
// the same run, rounds interleaved; a C sendmmsg sender in the sender namespace offers the load.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../result-file.mjs';
import { createVethNetwork, VETH } from './network.mjs';
import { startSide } from './side-process.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const quick = Boolean(process.env.BENCH_QUICK);
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 0.5 : 2));
// At least 3 rounds even when quick (shorter ones then): one round on a shared machine is noise, not a median.
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const PROGRAMS = ['gtpu-lite', 'xdp-firewall', 'int-telemetry', 'apn-tagger', 'dns-observer'];

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!PROGRAMS.includes(name)) throw new Error(`no veth suite ${name} (${PROGRAMS})`);
const suitePaths = ['baselines', ...(wanted.length > 0 ? wanted : PROGRAMS)].map((name) =>
  join(here, 'programs', `${name}.mjs`),
);
const suites = [];
for (const path of suitePaths) suites.push((await import(path)).default);
const variants = suites.flatMap((s) => s.variants);

/** Compiles the baselines and every suite's programs, and the C sender. */
async function build(work) {
  const { compileObject } = await import(join(root, 'sdk/dist/compile/compile-object.js'));
  const { ensureVmlinuxHeader } = await import(join(root, 'sdk/dist/compile/vmlinux-header.js'));
  const { findToolchain } = await import(join(root, 'sdk/dist/compile/toolchain.js'));
  const { runTool } = await import(join(root, 'sdk/dist/compile/run-tool.js'));
  const toolchain = await findToolchain(runTool);
  const vmlinux = await ensureVmlinuxHeader(runTool, toolchain.bpftool, { cacheDir: join(here, 'build') });
  const sources = {
    xdpDrop: 'bench/programs/xdp-drop.bpf.c',
    xdpPass: 'bench/programs/xdp-pass.bpf.c',
    ...Object.assign({}, ...suites.map((s) => s.objects)),
  };
  const objects = {};
  for (const [key, source] of Object.entries(sources)) {
    const path = join(root, source);
    const compiled = await compileObject(runTool, toolchain, {
      source: path,
      output: join(work, `${key}.o`),
      arch: process.arch === 'arm64' ? 'arm64' : 'x86',
      includeDirs: [vmlinux.includeDir, dirname(path)],
    });
    objects[key] = compiled.path;
  }
  const blast = join(work, 'udp-blast');
  execFileSync('gcc', ['-O2', '-o', blast, join(here, 'udp-blast.c')]);
  return { objects, blast };
}

/** Runs every variant once per round, so other load on the machine hits all alike; the order flips every round so
 * that no variant always runs first or last. */
async function measure({ sender, receiver, network, blast }) {
  const samples = Object.fromEntries(variants.map((v) => [v.key, { sent: [], received: [] }]));
  const target = VETH.unownedAddress.join('.');
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
      await receiver.request('attach', { key: v.key });
      try {
        await sender.request('attach', { key: v.key });
        const before = (await receiver.request('rx')).rx;
        const args = [target, String(v.packet.port), v.packet.hex, String(SECONDS * 1000)];
        const out = execFileSync('nsenter', [`--net=/run/netns/${network.sender}`, blast, ...args], {
          encoding: 'utf8',
        });
        await new Promise((r) => setTimeout(r, 200));
        samples[v.key].sent.push(Number(out.trim()) / SECONDS);
        samples[v.key].received.push(((await receiver.request('rx')).rx - before) / SECONDS);
      } finally {
        await sender.request('detach');
        await receiver.request('detach');
      }
    }
  }
  return samples;
}

/** The agreed figure shape; every receiver's baseline is XDP_DROP on the same veth in the same run. */
function figuresOf(samples) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const received = (key) => Math.round(median(samples[key].received));
  const drop = received('xdpDrop');
  const pass = received('xdpPass');
  return variants.map((v) => {
    const value = received(v.key);
    const isDrop = v.key === 'xdpDrop';
    return {
      name: `${v.name}: received packets/s on the veth`,
      value,
      unit: 'packets/s',
      baseline: isDrop ? null : { name: 'xdp-drop (baseline)', value: drop },
      ratio: isDrop ? null : Number((value / drop).toFixed(2)),
      goal: null,
      met: null,
      offeredPps: Math.round(median(samples[v.key].sent)),
      // Every round's figure, in round order, so the spread (noise from other load) shows beside the median.
      roundsPps: samples[v.key].received.map(Math.round),
      vsXdpPass: Number((value / pass).toFixed(2)),
    };
  });
}

const work = mkdtempSync(join(tmpdir(), 'bpfleet-veth-'));
let network = null;
const sides = [];
// Ctrl-C or a kill skips `finally`: remove the namespaces (and so the veths and their links) all the same.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    for (const side of sides) {
      try {
        process.kill(side.pid, 'SIGKILL');
      } catch {} // already gone
    }
    network?.remove();
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
try {
  const { objects, blast } = await build(work);
  network = createVethNetwork(process.pid);
  const config = { root, objects, suites: suitePaths };
  sides.push(await startSide(network.sender, { ...config, role: 'sender', iface: VETH.senderIface }));
  sides.push(await startSide(network.receiver, { ...config, role: 'receiver', iface: VETH.receiverIface }));
  const [sender, receiver] = sides;
  const samples = await measure({ sender, receiver, network, blast });
  const counted = {
    sender: (await sender.request('verify')).counted,
    receiver: (await receiver.request('verify')).counted,
  };
  const result = {
    benchmark: 'veth',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, kernel: release(), node: process.version },
    settings: {
      seconds: SECONDS,
      rounds: ROUNDS,
      statistic: 'median of rounds',
      programs: suites.map((s) => s.program),
      xdpMode: 'driver (veth)',
      packet: '100 UDP payload bytes: a GTP-U G-PDU (92-byte inner IPv4/UDP), or a DNS query padded to it',
      senderTcx: 'programs on the sender tcx egress run with XDP_DROP on the receiver',
      receiverTcx: 'programs on the receiver tcx ingress run behind XDP_PASS (the xdp-pass receive path)',
    },
    figures: figuresOf(samples),
    counted,
  };
  const pad = (s, n) => String(s).padEnd(n);
  console.log(
    `${pad('receiver', 72)}${pad('received pps', 14)}${pad('offered pps', 14)}${pad('vs drop', 9)}vs pass`,
  );
  for (const f of result.figures)
    console.log(
      `${pad(f.name.split(': received')[0], 72)}${pad(f.value, 14)}${pad(f.offeredPps, 14)}${pad(f.ratio ?? 1, 9)}${f.vsXdpPass}`,
    );
  console.log(`wrote ${writeResult('veth', result)}`);
} finally {
  for (const side of sides) await side.stop();
  network?.remove();
  rmSync(work, { recursive: true, force: true });
}
