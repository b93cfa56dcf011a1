// ns/packet of apn-tagger's IPv6 paths through BPF_PROG_TEST_RUN, next to an empty tcx program in the same run.
// Usage: node bpf-programs/apn-tagger/test/bench-apn6.mjs [--json]   (root; after `bpfleet build bpf-programs/apn-tagger`)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCollection, testRun } from '@bpfleet/sdk/bpf';

const here = dirname(fileURLToPath(import.meta.url));
const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
const object = new Uint8Array(readFileSync(join(here, '..', 'build', 'bpf', arch, 'apn-tagger.bpf.o')));
// One run per call: with `repeat` the kernel runs the program again on the same skb, so after the first run an
// insert would meet its own header (and be skipped) and a strip would meet a stripped packet. Each call's duration
// holds the kernel's timer read as well, for the floor too: compare differences, not ratios.
// Variants take turns (ROUNDS of RUNS calls each) so that the other engineers' load falls on all of them alike.
const ROUNDS = 21;
const RUNS = 1_000;

const eth = '02000000000202000000000186dd';
const addrs = '20010002000000000000000000000001' + '20010002000000000000000000000002';
const udp = '9c40270f000b2d0f61706e';
// The header apn_tag inserts: next header UDP, length 1, option 0x1e (APN-ID-Type 1, APN-ID 0x12345), PadN.
const hbh = '1101' + '1e08' + '0100' + '0000' + '00012345' + '0102' + '0000';
const plain = Buffer.from(`${eth}60000000000b1140${addrs}${udp}`, 'hex');
const apn6 = Buffer.from(`${eth}60000000001b0040${addrs}${hbh}${udp}`, 'hex');

/** An empty tcx program, compiled now: the floor every figure is set against. */
function emptyTcx(dir) {
  const src = join(dir, 'pass.bpf.c');
  writeFileSync(
    src,
    '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\n' +
      'SEC("tcx/egress") int pass(struct __sk_buff *skb) { return -1; /* TCX_NEXT */ }\n',
  );
  const obj = join(dir, 'pass.bpf.o');
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '-c',
    src,
    '-o',
    obj,
  ]);
  return new Uint8Array(readFileSync(obj));
}

async function tagger(config) {
  const coll = await loadCollection(object, {
    programs: ['apn_tag'],
    config: { cgroup_level: 64, ...config },
  });
  // cgroup_level 64: no packet has an ancestor that deep, so the app is key 0 (as in tests.json).
  const value = Buffer.alloc(8);
  value.writeUInt32LE(0x12345, 0);
  value[4] = 46;
  coll.map('tagged_apps').update(Buffer.alloc(8), value);
  return coll;
}

/** Median single-run duration of each variant, the variants interleaved round by round. */
function medians(variants) {
  const runs = variants.map(() => []);
  for (let r = 0; r < ROUNDS; r++)
    variants.forEach(([, program, frame], v) => {
      for (let i = 0; i < RUNS; i++) runs[v].push(testRun(program, frame).durationNs);
    });
  return runs.map((all) => all.sort((a, b) => a - b)[Math.floor(all.length / 2)]);
}

const dir = mkdtempSync(join(tmpdir(), 'apn6-bench-'));
const colls = [];
try {
  const pass = await loadCollection(emptyTcx(dir));
  colls.push(pass);
  const untagged = await loadCollection(object, { programs: ['apn_tag'] });
  const flowLabel = await tagger({});
  const hbh = await tagger({ apn6_carrier: 1 });
  const reader = await loadCollection(object, { programs: ['apn_read'] });
  const stripper = await loadCollection(object, { programs: ['apn_read'], config: { strip_apn6: true } });
  colls.push(untagged, flowLabel, hbh, reader, stripper);
  if (testRun(hbh.program('apn_tag'), plain).dataOut.length !== plain.length + 16)
    throw new Error('apn_tag with apn6_carrier 1 did not insert the option: it would measure something else');
  if (testRun(stripper.program('apn_read'), apn6).dataOut.length !== apn6.length - 16)
    throw new Error('apn_read with strip_apn6 did not strip: it would measure something else');
  const variants = [
    ['empty tcx program (floor)', pass.program('pass'), plain],
    ['apn_tag, IPv6 of an untagged app', untagged.program('apn_tag'), plain],
    ['apn_tag, IPv6 tagged: DSCP + flow label', flowLabel.program('apn_tag'), plain],
    ['apn_tag, IPv6 tagged: + APN6 Hop-by-Hop option inserted', hbh.program('apn_tag'), plain],
    ['apn_read, IPv6 without extension header', reader.program('apn_read'), plain],
    ['apn_read, APN6 packet counted', reader.program('apn_read'), apn6],
    ['apn_read, APN6 packet counted and stripped', stripper.program('apn_read'), apn6],
  ];
  const ns = medians(variants);
  const figures = variants.map(([name], i) => ({ name, ns: ns[i] }));
  const floor = figures[0].ns;
  if (process.argv.includes('--json')) console.log(JSON.stringify({ rounds: ROUNDS, runs: RUNS, figures }));
  else
    for (const f of figures)
      console.log(
        `${f.name.padEnd(58)} ${String(f.ns).padStart(5)} ns  ${f.ns - floor >= 0 ? '+' : ''}${f.ns - floor} ns over the floor`,
      );
} finally {
  for (const c of colls) c.close();
  rmSync(dir, { recursive: true, force: true });
}
