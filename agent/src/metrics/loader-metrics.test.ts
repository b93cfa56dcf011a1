// Kernel test through the agent's loader: a package with a bcc-style histogram map and .bss globals attached by
// XDP to a veth, pinged; loader.metrics() matches the kernel's own view (bpftool), also from a new loader (restart).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { type Manifest, parseManifest } from '@bpfleet/sdk/manifest';
import { configDigestOf } from '../agent.js';
import { BpfLoader } from '../deployments/bpf-loader.js';
import { DeploymentMetaStore } from '../deployments/deployment-meta.js';
import { silentLogger } from '../logger.js';
import type { DeploySpec, ProgramMetric } from '../ports.js';
import { arch, buildPackage, compileTestObject } from '../testing/kernel-fixtures.js';
import { renderProgramMetrics } from './program-exposition.js';
import { promtoolProblems } from './promtool.js';

const tag = randomBytes(2).toString('hex');
const ns = `bf-mtr-${process.pid}-${tag}`;
const inner = `mtr${tag}i`;
const outer = `mtr${tag}o`;
const pinRoot = `/sys/fs/bpf/bpfleet-mtr-${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'bpfleet-mtr-loader-'));
const PINGS = 20;

const manifest: Manifest = parseManifest({
  name: 'mtr/size-hist',
  version: '1.0.0',
  license: 'GPL',
  programs: [{ name: 'size_hist' }],
  requires: { arches: [arch] },
  globals: {
    vars: { packets_seen: 'u64', bytes_seen: 'u64' },
    metrics: [
      { name: 'mtr_packets_seen_total', type: 'counter', help: 'Packets (.bss)', value: 'packets_seen' },
      { name: 'mtr_seen_bytes_total', type: 'counter', help: 'Bytes (.bss)', value: 'bytes_seen' },
    ],
  },
  maps: {
    sizes: {
      layout: {
        key: { type: 'enum', of: 'u32', names: { '0': 'all', '1': 'odd' } },
        value: { slots: { type: 'array', of: 'u32', length: 26 }, sum: 'u64' },
      },
      metrics: [
        {
          name: 'mtr_packet_size_bytes',
          type: 'histogram',
          help: 'Sizes',
          value: 'slots',
          sum: 'sum',
          buckets: { kind: 'log2' },
          labels: { packets: 'key' },
        },
      ],
    },
  },
});

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function newLoader(): BpfLoader {
  return new BpfLoader({
    pinRoot,
    meta: new DeploymentMetaStore(join(dataDir, 'deployments')),
    arch,
    cgroupRoot: '/sys/fs/cgroup',
    allow: { interfaces: [inner], cgroups: [] },
    logger: silentLogger,
  });
}

async function spec(): Promise<DeploySpec> {
  const { archive, contents } = await buildPackage(manifest, compileTestObject('mtr_histogram'));
  return {
    id: 'hist',
    pkg: {
      ref: {
        package: manifest.name,
        version: manifest.version,
        digest: sha256Digest(archive),
        size: archive.length,
      },
      manifestDigest: contents.manifestDigest,
      manifest: contents.manifest,
      contents,
    },
    attach: { interface: inner },
    config: {},
    configDigest: configDigestOf({}),
  };
}

/** The kernel's view of the deployment's .bss, formatted by bpftool from the map's BTF. */
function kernelGlobals(): Record<string, number> {
  const dump = JSON.parse(
    run('bpftool', ['-j', 'map', 'dump', 'pinned', join(pinRoot, 'hist', 'maps', '__bss')]),
  );
  return Object.fromEntries(
    (dump[0].formatted.value['.bss'] as Array<Record<string, number>>).flatMap((v) => Object.entries(v)),
  );
}

const sampleOf = (metrics: ProgramMetric[], name: string, labels: Record<string, string> = {}) =>
  metrics.find((m) => m.name === name && JSON.stringify(m.labels) === JSON.stringify(labels));

before(() => {
  run('ip', ['netns', 'add', ns]);
  run('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer, 'netns', ns]);
  run('ip', ['addr', 'add', '198.18.136.1/30', 'dev', inner]);
  run('ip', ['link', 'set', inner, 'up']);
  run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', '198.18.136.2/30', 'dev', outer]);
  run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', outer, 'up']);
});

after(async () => {
  await newLoader()
    .detach('hist')
    .catch(() => {});
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  spawnSync('ip', ['link', 'del', inner]);
  spawnSync('ip', ['netns', 'del', ns]);
});

test('a histogram map and .bss globals through the loader equal the kernel view, also after a restart', async () => {
  const loader = newLoader();
  await loader.attach(await spec());
  // 100-byte payloads: 142-byte frames on the wire (Ethernet 14 + IPv4 20 + ICMP 8 + 100), slot 8 ([128, 255]).
  const ping = spawnSync('ip', [
    'netns',
    'exec',
    ns,
    'ping',
    '-c',
    String(PINGS),
    '-i',
    '0.01',
    '-s',
    '100',
    '-W',
    '1',
    '198.18.136.1',
  ]);
  assert.equal(ping.status, 0, ping.stdout?.toString());
  const kernel = kernelGlobals();
  const metrics = await loader.metrics();
  const seen = sampleOf(metrics, 'mtr_packets_seen_total')?.value;
  assert.equal(seen, kernel.packets_seen);
  assert.equal(sampleOf(metrics, 'mtr_seen_bytes_total')?.value, kernel.bytes_seen);
  const hist = sampleOf(metrics, 'mtr_packet_size_bytes', { packets: 'all' });
  assert.equal(hist?.value, seen, 'every packet the program saw is in the histogram');
  assert.ok((hist?.buckets?.find((b) => b.le === 255)?.count ?? 0) >= PINGS, JSON.stringify(hist?.buckets));
  assert.deepEqual(promtoolProblems(renderProgramMetrics(metrics)), []);

  // A restart: a new loader reads the same pins, the globals by the BTF the kernel keeps for the map.
  const again = await newLoader().metrics();
  assert.equal(sampleOf(again, 'mtr_packets_seen_total')?.value, kernelGlobals().packets_seen);
  await newLoader().detach('hist');
  assert.equal(existsSync(join(pinRoot, 'hist')), false);
  assert.deepEqual(await newLoader().metrics(), []);
});
