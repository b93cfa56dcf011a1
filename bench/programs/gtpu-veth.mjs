// Packets/s through a veth pair into gtpu-lite (uplink decap, unknown-TEID drop) next to bare XDP_DROP and XDP_PASS
// receivers, all in the same run, rounds interleaved; a C sendmmsg sender in the peer namespace offers the load.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RESULTS = join(root, 'bench/results/gtpu-veth.json');

/** The GTP-U G-PDU the gNB sends: inner IPv4/UDP 198.18.253.5 → 198.18.252.9, 64 payload bytes. */
function gpdu(teid) {
  const inner = Buffer.alloc(20 + 8 + 64);
  inner[0] = 0x45;
  inner.writeUInt16BE(inner.length, 2);
  inner[8] = 64;
  inner[9] = 17;
  Buffer.from([198, 18, 253, 5, 198, 18, 252, 9]).copy(inner, 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += inner.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  inner.writeUInt16BE(~sum & 0xffff, 10);
  inner.writeUInt16BE(5000, 20);
  inner.writeUInt16BE(6000, 22);
  inner.writeUInt16BE(8 + 64, 24);
  const g = Buffer.from([0x30, 0xff, 0, inner.length, 0, 0, 0, 0]);
  g.writeUInt32BE(teid, 4);
  return Buffer.concat([g, inner]).toString('hex');
}

function rxPackets(iface) {
  const line = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith(`${iface}:`));
  return Number(line.split(':')[1].trim().split(/\s+/)[1]);
}

async function inside() {
  const { peer, iface, blast, drop, pass, gtpu } = JSON.parse(process.env.GTPU_VETH_INSIDE);
  const { loadCollection } = await import(join(root, 'sdk/dist/bpf/index.js'));
  const load = async (path) => loadCollection(new Uint8Array(readFileSync(path)));
  const colls = { drop: await load(drop), pass: await load(pass), gtpu: await load(gtpu) };
  const teid = Buffer.alloc(4);
  teid.writeUInt32LE(0x100);
  colls.gtpu.map('uplink_teids').update(teid, Buffer.from([1, 0, 0, 0]));
  const variants = [
    { key: 'xdpDrop', name: 'xdp-drop (baseline)', prog: colls.drop.program('xdp_drop'), teid: 0x100 },
    { key: 'xdpPass', name: 'xdp-pass (baseline)', prog: colls.pass.program('xdp_pass'), teid: 0x100 },
    {
      key: 'decap',
      name: 'gtpu-lite uplink decap + pass',
      prog: colls.gtpu.program('gtpu_fast_path'),
      teid: 0x100,
    },
    {
      key: 'unknown',
      name: 'gtpu-lite unknown TEID drop',
      prog: colls.gtpu.program('gtpu_fast_path'),
      teid: 0x999,
    },
  ];
  const samples = Object.fromEntries(variants.map((v) => [v.key, { sent: [], received: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const link = await v.prog.attach({ kind: 'xdp', interface: iface, mode: 'driver' });
      try {
        const before = rxPackets(iface);
        const out = execFileSync(
          'nsenter',
          [`--net=/run/netns/${peer}`, blast, '198.18.252.9', '2152', gpdu(v.teid), String(SECONDS * 1000)],
          { encoding: 'utf8' },
        );
        await new Promise((r) => setTimeout(r, 200));
        samples[v.key].sent.push(Number(out.trim()) / SECONDS);
        samples[v.key].received.push((rxPackets(iface) - before) / SECONDS);
      } finally {
        link.close();
      }
    }
  }
  const stats = colls.gtpu.map('stats');
  const count = (slot) => {
    const k = Buffer.alloc(4);
    k.writeUInt32LE(slot);
    return (stats.lookupPerCpu(k) ?? []).reduce((s, v) => s + Buffer.from(v).readBigUInt64LE(0), 0n);
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const figures = variants.map((v) => ({
    name: v.name,
    receivedPps: Math.round(median(samples[v.key].received)),
    offeredPps: Math.round(median(samples[v.key].sent)),
  }));
  const gtpuCounted = { decap: String(count(0)), unknownTeid: String(count(2)) };
  for (const c of Object.values(colls)) c.close();
  process.stdout.write(JSON.stringify({ figures, gtpuCounted }));
}

async function outside() {
  const { compileObject } = await import(join(root, 'sdk/dist/compile/compile-object.js'));
  const { ensureVmlinuxHeader } = await import(join(root, 'sdk/dist/compile/vmlinux-header.js'));
  const { findToolchain } = await import(join(root, 'sdk/dist/compile/toolchain.js'));
  const { runTool } = await import(join(root, 'sdk/dist/compile/run-tool.js'));
  const work = mkdtempSync(join(tmpdir(), 'bpfleet-gtpu-veth-'));
  const tag = `${process.pid}`;
  const gnb = `bf-bench-${tag}-gnb`;
  const upf = `bf-bench-${tag}-upf`;
  const ns = (name, ...args) => execFileSync('nsenter', [`--net=/run/netns/${name}`, ...args]);
  try {
    const toolchain = await findToolchain(runTool);
    const vmlinux = await ensureVmlinuxHeader(runTool, toolchain.bpftool, { cacheDir: join(here, 'build') });
    const build = async (source, includeDir) =>
      (
        await compileObject(runTool, toolchain, {
          source,
          output: join(work, source.split('/').pop().replace(/\.c$/, '.o')),
          arch: process.arch === 'arm64' ? 'arm64' : 'x86',
          includeDirs: [vmlinux.includeDir, includeDir],
        })
      ).path;
    const blast = join(work, 'udp-blast');
    execFileSync('gcc', ['-O2', '-o', blast, join(here, 'udp-blast.c')]);
    const objects = {
      drop: await build(join(here, 'xdp-drop.bpf.c'), here),
      pass: await build(join(here, 'xdp-pass.bpf.c'), here),
      gtpu: await build(
        join(root, 'bpf-programs/gtpu-lite/gtpu-lite.bpf.c'),
        join(root, 'bpf-programs/gtpu-lite'),
      ),
    };
    execFileSync('ip', ['netns', 'add', gnb]);
    execFileSync('ip', ['netns', 'add', upf]);
    execFileSync('ip', [
      '-n',
      gnb,
      'link',
      'add',
      'n3g',
      'type',
      'veth',
      'peer',
      'name',
      'n3u',
      'netns',
      upf,
    ]);
    ns(gnb, 'ip', 'addr', 'add', '198.18.250.1/30', 'dev', 'n3g');
    ns(upf, 'ip', 'addr', 'add', '198.18.250.2/30', 'dev', 'n3u');
    for (const [n, i] of [
      [gnb, 'n3g'],
      [upf, 'n3u'],
      [gnb, 'lo'],
      [upf, 'lo'],
    ])
      ns(n, 'ip', 'link', 'set', i, 'up');
    // A permanent neighbour: the XDP_DROP receiver drops ARP too.
    const mac = JSON.parse(ns(upf, 'ip', '-j', 'link', 'show', 'n3u').toString())[0].address;
    ns(gnb, 'ip', 'neigh', 'add', '198.18.250.2', 'lladdr', mac, 'dev', 'n3g', 'nud', 'permanent');
    // Tunnels go to an address the UPF does not own, so what it passes up is dropped by routing, alike for all.
    ns(gnb, 'ip', 'route', 'add', '198.18.252.0/24', 'via', '198.18.250.2');
    const child = spawnSync(
      'nsenter',
      [`--net=/run/netns/${upf}`, process.execPath, fileURLToPath(import.meta.url)],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          GTPU_VETH_INSIDE: JSON.stringify({ peer: gnb, iface: 'n3u', blast, ...objects }),
        },
      },
    );
    if (child.status !== 0) throw new Error(`inside run failed: ${child.stderr}`);
    const inner = JSON.parse(child.stdout);
    const drop = inner.figures.find((f) => f.name.startsWith('xdp-drop')).receivedPps;
    const pass = inner.figures.find((f) => f.name.startsWith('xdp-pass')).receivedPps;
    const result = {
      benchmark: 'gtpu-veth',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, kernel: release(), node: process.version },
      settings: {
        seconds: SECONDS,
        rounds: ROUNDS,
        statistic: 'median of rounds',
        xdpMode: 'driver (veth)',
        packet: 'GTP-U G-PDU, 92-byte inner IPv4/UDP',
      },
      // The agreed figure shape (value, unit, baseline, ratio) so npm run bench can table it; the
      // baseline of every receiver is XDP_DROP on the same veth in the same run.
      figures: inner.figures.map((f) => {
        const isDrop = f.name.startsWith('xdp-drop');
        return {
          name: `${f.name}: received packets/s on the veth`,
          value: f.receivedPps,
          unit: 'packets/s',
          baseline: isDrop ? null : { name: 'xdp-drop (baseline)', value: drop },
          ratio: isDrop ? null : Number((f.receivedPps / drop).toFixed(2)),
          goal: null,
          met: null,
          offeredPps: f.offeredPps,
          vsXdpPass: Number((f.receivedPps / pass).toFixed(2)),
        };
      }),
      gtpuCounted: inner.gtpuCounted,
    };
    const pad = (s, n) => String(s).padEnd(n);
    console.log(
      `${pad('receiver', 36)}${pad('received pps', 14)}${pad('offered pps', 14)}${pad('vs drop', 9)}vs pass`,
    );
    for (const f of result.figures)
      console.log(
        `${pad(f.name.split(':')[0], 36)}${pad(f.value, 14)}${pad(f.offeredPps, 14)}${pad(f.ratio ?? 1, 9)}${f.vsXdpPass}`,
      );
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${RESULTS.slice(root.length + 1)}`);
  } finally {
    spawnSync('ip', ['netns', 'del', gnb]);
    spawnSync('ip', ['netns', 'del', upf]);
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.env.GTPU_VETH_INSIDE) await inside();
else await outside();
