// ns per packet of each bpf-programs/ program through BPF_PROG_TEST_RUN (the SDK loader's testRun), next to bare baselines.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResult } from '../result-file.mjs';
import { blocklistKeys, fillBlocklist, slash16Entries } from './blocklist.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { compileObject } = await import(join(root, 'sdk/dist/compile/compile-object.js'));
const { ensureVmlinuxHeader } = await import(join(root, 'sdk/dist/compile/vmlinux-header.js'));
const { findToolchain } = await import(join(root, 'sdk/dist/compile/toolchain.js'));
const { runTool } = await import(join(root, 'sdk/dist/compile/run-tool.js'));
const { loadCollection, testRun } = await import(join(root, 'sdk/dist/bpf/index.js'));

const REPEAT = Number(process.env.BENCH_REPEAT ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PREFIXES = 10_000;
// Programs that rewrite the packet (gtpu-lite) cannot use repeat: the kernel does not reset the packet between
// repeats, so they run once per call, many calls, next to an XDP_PASS measured the same way.
const SINGLE_SHOTS = Number(process.env.BENCH_SINGLE_SHOTS ?? 20_000);

/** A 64-byte Ethernet/IPv4/UDP frame from 198.18.0.1 to 198.18.0.2 (checksums do not matter to these programs). */
function udpFrame() {
  const f = Buffer.alloc(64);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(50, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([198, 18, 0, 1, 198, 18, 0, 2]).copy(f, 26);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(9000, 36);
  f.writeUInt16BE(30, 38);
  return f;
}

/** No cgroup has this id (ids are inode numbers): the "untagged app" variant must never match it. */
const NO_CGROUP = 0xffff_ffff_ffff_fff0n;

/**
 * apn-tagger with this process's cgroup tagged (BPF_PROG_TEST_RUN gives packets a socket of the caller's cgroup),
 * or with only an impossible cgroup tagged. Not cgroup id 1: that is the cgroup2 root, where this may well run.
 */
async function loadApnTagger(load, object, tagged) {
  const coll = await load(object);
  const path = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(
    tagged ? BigInt(statSync(join('/sys/fs/cgroup/unified', path.slice(3))).ino) : NO_CGROUP,
  );
  const value = Buffer.alloc(8);
  value.writeUInt32LE(0x12345, 0);
  value[4] = 46;
  coll.map('tagged_apps').update(key, value);
  return coll;
}

/** The 64-byte frame as a DNS query (UDP to port 53, id 0x1234, example.com A IN). */
function dnsQueryFrame() {
  const f = udpFrame();
  f.writeUInt16BE(53, 36);
  Buffer.from('123401000001000000000000076578616d706c6503636f6d0000010001', 'hex').copy(f, 42, 0, 22);
  return f;
}

/** gtpu-lite with one uplink TEID (0x100 → session 1) and one UE (198.18.20.5 → gNB 198.18.10.2, TEID 0x200). */
function setupGtpu(coll) {
  const u32le = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  coll.map('uplink_teids').update(u32le(0x100), u32le(1));
  const dl = Buffer.alloc(16);
  dl.writeUInt32LE(0x200, 0);
  Buffer.from([198, 18, 10, 2]).copy(dl, 4);
  dl.writeUInt32LE(2, 8);
  coll.map('downlink_ues').update(Buffer.from([198, 18, 20, 5]), dl);
  const gtpuFrame = (teid) => {
    const f = udpFrame();
    const inner = Buffer.from(f.subarray(14));
    f.writeUInt16BE(20 + 8 + 8 + inner.length, 16);
    f.writeUInt16BE(2152, 36);
    f.writeUInt16BE(8 + 8 + inner.length, 38);
    const g = Buffer.from([0x30, 0xff, 0, inner.length, 0, 0, 0, 0]);
    g.writeUInt32BE(teid, 4);
    return Buffer.concat([f.subarray(0, 42), g, inner]);
  };
  const downlink = udpFrame();
  Buffer.from([198, 18, 20, 5]).copy(downlink, 30);
  // The IPv6 transport: UE 198.18.20.6 tunnelled to gNB 2001:db8::2 (TEID 0x201), and a G-PDU that came over IPv6.
  const dl6 = Buffer.alloc(28);
  dl6.writeUInt32LE(0x201, 0);
  Buffer.from('20010db8000000000000000000000002', 'hex').copy(dl6, 4);
  dl6.writeUInt32LE(3, 20);
  coll.map('downlink_v6_tunnels').update(Buffer.from([198, 18, 20, 6]), dl6);
  const downlink6 = udpFrame();
  Buffer.from([198, 18, 20, 6]).copy(downlink6, 30);
  const uplink6 = (() => {
    const inner = udpFrame().subarray(14);
    const h = Buffer.alloc(14 + 40 + 8 + 8);
    Buffer.from('02000000000202000000000186dd60', 'hex').copy(h, 0);
    h.writeUInt16BE(16 + inner.length, 18);
    h[20] = 17;
    h[21] = 64;
    Buffer.from('20010db8000000000000000000000002', 'hex').copy(h, 22);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(h, 38);
    h.writeUInt16BE(2152, 54);
    h.writeUInt16BE(2152, 56);
    h.writeUInt16BE(16 + inner.length, 58);
    Buffer.from([0x30, 0xff, 0, inner.length, 0, 0, 1, 0]).copy(h, 62);
    return Buffer.concat([h, inner]);
  })();
  return {
    cases: [
      {
        baseline: 'xdp',
        key: 'gtpuDecap6',
        name: 'gtpu-lite uplink decap over IPv6 (known TEID)',
        frame: uplink6,
        retval: 2,
      },
      {
        baseline: 'xdp',
        key: 'gtpuEncap6',
        name: 'gtpu-lite downlink encap over IPv6, UDP checksum (known UE)',
        frame: downlink6,
        retval: 2,
      },
      {
        baseline: 'xdp',
        key: 'gtpuDecap',
        name: 'gtpu-lite uplink decap (known TEID)',
        frame: gtpuFrame(0x100),
        retval: 2,
      },
      {
        baseline: 'xdp',
        key: 'gtpuUnknown',
        name: 'gtpu-lite uplink, unknown TEID (drop)',
        frame: gtpuFrame(0x999),
        retval: 1,
      },
      {
        baseline: 'xdp',
        key: 'gtpuEncap',
        name: 'gtpu-lite downlink encap (known UE)',
        frame: downlink,
        retval: 2,
      },
      {
        baseline: 'xdp',
        key: 'gtpuOther',
        name: 'gtpu-lite other traffic (pass)',
        frame: udpFrame(),
        retval: 2,
      },
    ],
  };
}

/** Mean kernel ns of single runs (rounds interleaved), each case next to a bare program of its hook measured alike. */
async function singleShots(baselines, setupCases) {
  const cases = [
    {
      key: 'xdp',
      name: 'xdp-pass (baseline, one run per call)',
      frame: udpFrame(),
      retval: 2,
      prog: baselines.xdp,
    },
    {
      key: 'skb',
      name: 'cgroup-skb-pass (baseline, one run per call)',
      frame: udpFrame(),
      retval: 1,
      prog: baselines.skb,
    },
    ...setupCases,
  ];
  const means = Object.fromEntries(cases.map((c) => [c.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      let total = 0;
      for (let i = 0; i < SINGLE_SHOTS; i++) {
        const out = testRun(c.prog, c.frame, { repeat: 1 });
        if (out.retval !== c.retval)
          throw new Error(`${c.name}: returned ${out.retval}, expected ${c.retval}`);
        total += out.durationNs;
      }
      means[c.key].push(total / SINGLE_SHOTS);
    }
  }
  const median = (xs) => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1));
  return cases.map((c) => {
    const value = median(means[c.key]);
    if (!c.baseline)
      return { name: c.name, value, unit: 'ns/packet', baseline: null, ratio: null, goal: null, met: null };
    const base = median(means[c.baseline]);
    return {
      name: c.name,
      value,
      unit: 'ns/packet',
      baseline: { name: `${c.baseline === 'xdp' ? 'xdp-pass' : 'cgroup-skb-pass'} 1/call`, value: base },
      ratio: Number((value / base).toFixed(2)),
      goal: null,
      met: null,
    };
  });
}

/** A UDP datagram over IPv6 (2001:db8::1 → ::2, port 9000, 10 payload bytes; checksum not checked on this path). */
function udp6Frame() {
  const f = Buffer.alloc(14 + 40 + 8 + 10);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x86dd, 12);
  f[14] = 0x60;
  f.writeUInt16BE(18, 18);
  f[20] = 17;
  f[21] = 64;
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(f, 22);
  Buffer.from('20010db8000000000000000000000002', 'hex').copy(f, 38);
  f.writeUInt16BE(40000, 54);
  f.writeUInt16BE(9000, 56);
  f.writeUInt16BE(18, 58);
  return f;
}

/** int-telemetry: the source stamping a UDP frame, and the sink stripping a stamped one (IPv4, then IPv6). */
function intCases(coll) {
  const source = coll.program('int_source');
  const sink = coll.program('int_sink');
  const stamped = Buffer.from(testRun(source, udpFrame()).dataOut);
  const stamped6 = Buffer.from(testRun(source, udp6Frame()).dataOut);
  return [
    {
      key: 'intSource',
      name: 'int-telemetry source (stamp)',
      frame: udpFrame(),
      retval: -1,
      prog: source,
      baseline: 'skb',
    },
    {
      key: 'intSink',
      name: 'int-telemetry sink (strip, record)',
      frame: stamped,
      retval: -1,
      prog: sink,
      baseline: 'skb',
    },
    {
      key: 'intSource6',
      name: 'int-telemetry source, IPv6 (Destination Options stamp)',
      frame: udp6Frame(),
      retval: -1,
      prog: source,
      baseline: 'skb',
    },
    {
      key: 'intSink6',
      name: 'int-telemetry sink, IPv6 (strip, record)',
      frame: stamped6,
      retval: -1,
      prog: sink,
      baseline: 'skb',
    },
  ];
}

const popcount = (byte) => byte.toString(2).replaceAll('0', '').length;

/** A per-CPU counter summed over the CPUs: the u64 at `offset` of `map[key]` (u32 key), 0 when absent. */
function perCpuSum(map, key, offset = 0) {
  const k = Buffer.alloc(4);
  k.writeUInt32LE(key);
  const values = map.lookupPerCpu(k) ?? [];
  return values.reduce((n, v) => n + Buffer.from(v).readBigUInt64LE(offset), 0n);
}

/** Fails the benchmark when a counter the measured path keeps does not show that the path ran. */
function expectCount(what, actual, expected) {
  if (actual !== BigInt(expected))
    throw new Error(
      `${what}: the kernel counted ${actual}, expected ${expected}: the measured path did not run`,
    );
}

const work = mkdtempSync(join(tmpdir(), 'bpfleet-bench-'));
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
  const objects = {
    xdpPass: await build(join(here, 'xdp-pass.bpf.c'), here),
    cgroupPass: await build(join(here, 'cgroup-skb-pass.bpf.c'), here),
    hashCount: await build(join(here, 'hash-count.bpf.c'), here),
    firewall: await build(
      join(root, 'bpf-programs/xdp-firewall/xdp-firewall.bpf.c'),
      join(root, 'bpf-programs/xdp-firewall'),
    ),
    appTraffic: await build(
      join(root, 'bpf-programs/app-traffic/app-traffic.bpf.c'),
      join(root, 'bpf-programs/app-traffic'),
    ),
    dns: await build(
      join(root, 'bpf-programs/dns-observer/dns-observer.bpf.c'),
      join(root, 'bpf-programs/dns-observer'),
    ),
    int: await build(
      join(root, 'bpf-programs/int-telemetry/int-telemetry.bpf.c'),
      join(root, 'bpf-programs/int-telemetry'),
    ),
    apn: await build(
      join(root, 'bpf-programs/apn-tagger/apn-tagger.bpf.c'),
      join(root, 'bpf-programs/apn-tagger'),
    ),
    gtpu: await build(
      join(root, 'bpf-programs/gtpu-lite/gtpu-lite.bpf.c'),
      join(root, 'bpf-programs/gtpu-lite'),
    ),
  };

  const collections = [];
  const load = async (object) => {
    const coll = await loadCollection(new Uint8Array(await readFile(object)));
    collections.push(coll);
    return coll;
  };
  const hashCount = await load(objects.hashCount);
  const firewall10k = await load(objects.firewall);
  const firewall10kTrie = await load(objects.firewall);
  const appTraffic = await load(objects.appTraffic);
  const apnTagged = await loadApnTagger(load, objects.apn, true);
  const apnUntagged = await loadApnTagger(load, objects.apn, false);
  const dnsQuery = await load(objects.dns);
  const dnsOther = await load(objects.dns);
  const progs = {
    xdpPass: (await load(objects.xdpPass)).program('xdp_pass'),
    cgroupPass: (await load(objects.cgroupPass)).program('cgroup_skb_pass'),
    hashCount: hashCount.program('hash_count'),
    firewallEmpty: (await load(objects.firewall)).program('xdp_firewall'),
    firewall10k: firewall10k.program('xdp_firewall'),
    firewall10kTrie: firewall10kTrie.program('xdp_firewall'),
    appIngress: appTraffic.program('count_ingress'),
    dnsQuery: dnsQuery.program('dns_egress'),
    dnsOther: dnsOther.program('dns_egress'),
    apnTagged: apnTagged.program('apn_tag'),
    apnUntagged: apnUntagged.program('apn_tag'),
  };
  // Programs that look at more than the 5-tuple get a frame of their own protocol.
  const frames = { dnsQuery: dnsQueryFrame() };
  const counts = hashCount.map('counts');
  const one = Buffer.alloc(8);
  one.writeBigUInt64LE(1n);
  counts.update(one, new Uint8Array(counts.valueBufferSize));
  // firewall10k has the /16 prefilter filled in; firewall10kTrie leaves it unset, so every packet walks the trie.
  const keys = blocklistKeys(PREFIXES);
  fillBlocklist(firewall10k, keys);
  fillBlocklist(firewall10kTrie, keys, { prefilter: false });
  const slash16 = slash16Entries(keys);
  const entries = PREFIXES;
  const frame = udpFrame();
  const gtpu = await load(objects.gtpu);
  const gtpuSetup = setupGtpu(gtpu);

  // Rounds interleave the programs so that noise from other load on the machine hits all of them alike.
  const samples = Object.fromEntries(Object.keys(progs).map((k) => [k, []]));
  const retvals = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, program] of Object.entries(progs)) {
      const out = testRun(program, frames[key] ?? frame, { repeat: REPEAT });
      samples[key].push(out.durationNs);
      retvals[key] = out.retval;
    }
  }
  const gtpuProgram = gtpu.program('gtpu_fast_path');
  const int = await load(objects.int);
  const singles = await singleShots({ xdp: progs.xdpPass, skb: progs.cgroupPass }, [
    ...gtpuSetup.cases.map((c) => ({ ...c, prog: gtpuProgram })),
    ...intCases(int),
  ]);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ns = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
  // The kernel as witness that each figure measured the path it names.
  const runs = ROUNDS * REPEAT;
  if (apnTagged.map('tagged').keys().length !== 1)
    throw new Error('apn-tagger did not tag the benchmark packet');
  if (testRun(progs.apnTagged, frame).dataOut[15] !== 184)
    throw new Error('apn-tagger (tagged app) did not set DSCP 46 on the benchmark packet');
  if (apnUntagged.map('tagged').keys().length !== 0)
    throw new Error('apn-tagger (untagged app) tagged the benchmark packet: it measured tagging');
  if (testRun(progs.apnUntagged, frame).dataOut[15] !== 0)
    throw new Error('apn-tagger (untagged app) rewrote TOS: it measured tagging');
  // int_stats (IPv4 and IPv6 together): INT_STAMPED 0, INT_STRIPPED 2; the source ran once more per family to make
  // the sink's stamped frames. rx_flows6 holds the one IPv6 flow only if the IPv6 path ran.
  expectCount(
    'int-telemetry source, INT_STAMPED',
    perCpuSum(int.map('int_stats'), 0),
    2 * ROUNDS * SINGLE_SHOTS + 2,
  );
  expectCount(
    'int-telemetry sink, INT_STRIPPED',
    perCpuSum(int.map('int_stats'), 2),
    2 * ROUNDS * SINGLE_SHOTS,
  );
  if (int.map('rx_flows6').keys().length !== 1) throw new Error('int-telemetry sink recorded no IPv6 flow');
  // gtpu-lite sessions: 1 counts both uplink decaps (IPv4 and IPv6), 3 only the downlink tunnelled over IPv6.
  expectCount(
    'gtpu-lite uplink decap (IPv4 and IPv6), session 1 ul_packets',
    perCpuSum(gtpu.map('sessions'), 1),
    2 * ROUNDS * SINGLE_SHOTS,
  );
  expectCount(
    'gtpu-lite downlink encap over IPv6, session 3 dl_packets',
    perCpuSum(gtpu.map('sessions'), 3, 16),
    ROUNDS * SINGLE_SHOTS,
  );
  // dns_stats: DNS_QUERIES 0, DNS_MALFORMED 3.
  expectCount('dns-observer, a DNS query: DNS_QUERIES', perCpuSum(dnsQuery.map('dns_stats'), 0), runs);
  expectCount('dns-observer, other UDP: DNS_QUERIES', perCpuSum(dnsOther.map('dns_stats'), 0), 0);
  expectCount('dns-observer, other UDP: DNS_MALFORMED', perCpuSum(dnsOther.map('dns_stats'), 3), 0);
  // app_traffic: one entry (the caller's cgroup), rx_packets at offset 8.
  const appKeys = appTraffic.map('app_traffic').keys();
  if (appKeys.length !== 1) throw new Error(`app-traffic counted ${appKeys.length} cgroups, expected 1`);
  const appRx = (appTraffic.map('app_traffic').lookupPerCpu(appKeys[0]) ?? []).reduce(
    (n, v) => n + Buffer.from(v).readBigUInt64LE(8),
    0n,
  );
  expectCount('app-traffic count_ingress, rx_packets', appRx, runs);
  if (retvals.firewall10k !== 2 || retvals.firewall10kTrie !== 2 || retvals.firewallEmpty !== 2)
    throw new Error('the firewall did not pass the benchmark packet');

  const figure = (name, value, baselineName, baselineKey, maxDelta) => {
    const baseline = baselineKey ? { name: baselineName, value: ns[baselineKey] } : null;
    return {
      name,
      value,
      unit: 'ns/packet',
      baseline,
      ratio: baseline ? Number((value / baseline.value).toFixed(2)) : null,
      goal: maxDelta === undefined ? null : `<= ${baselineName} + ${maxDelta} ns`,
      met: maxDelta === undefined ? null : value <= baseline.value + maxDelta,
    };
  };
  const figures = [
    figure('xdp-pass (baseline)', ns.xdpPass),
    figure('cgroup-skb-pass (baseline)', ns.cgroupPass),
    figure('xdp-firewall, empty blocklist, rate limit off', ns.firewallEmpty, 'xdp-pass', 'xdpPass', 10),
    figure(
      `xdp-firewall, ${PREFIXES} IPv4 prefixes, rate limit off`,
      ns.firewall10k,
      'xdp-pass',
      'xdpPass',
      40,
    ),
    figure(
      `xdp-firewall, ${PREFIXES} IPv4 prefixes, /16 prefilter unset (trie walk)`,
      ns.firewall10kTrie,
      'xdp-pass',
      'xdpPass',
    ),
    figure('app-traffic count_ingress (known cgroup)', ns.appIngress, 'cgroup-skb-pass', 'cgroupPass', 10),
    figure(
      'one per-CPU hash lookup + count (floor for per-key counters)',
      ns.hashCount,
      'cgroup-skb-pass',
      'cgroupPass',
    ),
    figure('app-traffic count_ingress vs xdp-pass', ns.appIngress, 'xdp-pass', 'xdpPass'),
    figure(
      'dns-observer egress, a DNS query (remembered in the LRU)',
      ns.dnsQuery,
      'cgroup-skb-pass',
      'cgroupPass',
    ),
    figure('dns-observer egress, other UDP', ns.dnsOther, 'cgroup-skb-pass', 'cgroupPass'),
    figure('apn-tagger, IPv4 of a tagged app (DSCP set)', ns.apnTagged, 'cgroup-skb-pass', 'cgroupPass'),
    figure('apn-tagger, an untagged app', ns.apnUntagged, 'cgroup-skb-pass', 'cgroupPass'),
    ...singles,
  ];
  const result = {
    benchmark: 'programs',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, kernel: release(), node: process.version },
    settings: {
      repeat: REPEAT,
      rounds: ROUNDS,
      statistic: 'median of rounds',
      frame: '64-byte IPv4/UDP',
      blocklistEntries: entries,
      blocklistSlash16Set: [...slash16]
        .filter(([index]) => index < 256)
        .reduce((n, [, bits]) => n + bits.reduce((m, byte) => m + popcount(byte), 0), 0),
      singleShots: SINGLE_SHOTS,
    },
    figures,
  };
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`${pad('program', 64)}${pad('ns/pkt', 8)}${pad('baseline', 30)}${pad('goal', 28)}met`);
  for (const f of figures) {
    const base = f.baseline ? `${f.baseline.name} ${f.baseline.value} (x${f.ratio})` : '-';
    console.log(
      `${pad(f.name, 64)}${pad(f.value, 8)}${pad(base, 30)}${pad(f.goal ?? '-', 28)}${f.met ?? '-'}`,
    );
  }
  console.log(`wrote ${writeResult('programs', result)}`);
  for (const coll of collections) coll.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
