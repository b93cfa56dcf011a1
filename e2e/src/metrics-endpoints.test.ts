// End to end: the real edge and agent, xdp-firewall and dns-observer deployed through the fleet, pings; both /metrics
// pass `promtool check metrics`, the firewall's counters exist under the README's names with the values the kernel
// holds (bpftool), dns-observer's latency is a histogram, and the edge shows the fleet (devices by presence, deployments by version and status).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { until } from '@bpfleet/sdk/test-kit';
import { pinsUnder } from './fixtures/kernel-state.js';
import { type PublishedDevice, startPublishedDevice } from './truth/published-device.js';

const LIBRARY = fileURLToPath(new URL('../../bpf-programs', import.meta.url));
const CLI = fileURLToPath(new URL('../../sdk/dist/cli/main.js', import.meta.url));

let device: PublishedDevice | undefined;
let work: string;
let pkg: { name: string; version: string };
let dns: { name: string; version: string };

/** `promtool check metrics` on a scrape: its lints and errors, one per line (none: it passes). */
function promtool(text: string): string[] {
  try {
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
    return [];
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '');
  }
}

/** `name{labels} value` lines → value by the whole series text. */
function series(text: string): Map<string, number> {
  return new Map([...text.matchAll(/^(\S+\{[^}]*\}) (\S+)$/gm)].map((m) => [m[1] ?? '', Number(m[2])]));
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-mtr-metrics-'));
  const vmlinux = join(work, 'vmlinux.h');
  await writeFile(
    vmlinux,
    execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 256 * 1024 * 1024,
    }),
  );
  const build = async (program: string) => {
    const args = [
      CLI,
      'build',
      join(LIBRARY, program),
      '--vmlinux',
      vmlinux,
      '--build-dir',
      join(work, program),
      '--json',
    ];
    const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: 'utf8' });
    const built = JSON.parse(stdout) as {
      ok: boolean;
      name: string;
      version: string;
      package: { file: string };
    };
    assert.ok(built.ok, `bpfleet build ${program}`);
    return built;
  };
  const [fw, observer] = await Promise.all([build('xdp-firewall'), build('dns-observer')]);
  pkg = fw;
  dns = observer;
  device = await startPublishedDevice({
    tag: 'mtr',
    block: 136,
    namespaces: ['bpfleet'],
    allow: (net) => ({ interfaces: [net.wan], cgroups: [] }),
  });
  await device.publish(await readFile(fw.package.file));
  await device.publish(await readFile(observer.package.file));
  await device.apply([
    { id: 'fw', package: fw.name, version: fw.version },
    { id: 'dns', package: observer.name, version: observer.version },
  ]);
  const reported = await device.settled(['fw', 'dns']);
  assert.deepEqual(
    reported.map((p) => p.status),
    ['ATTACHED', 'ATTACHED'],
    JSON.stringify(reported),
  );
});

after(async () => {
  await device?.close();
  await rm(work, { recursive: true, force: true });
});

test("the agent's /metrics: promtool passes; the README's firewall counters hold what the kernel counted", async () => {
  const d = device as PublishedDevice;
  const ping = await d.net.ping(10, 0.05);
  assert.equal(ping.received, 10);
  const scrape = () => d.net.inDevice('curl', ['-sf', 'http://127.0.0.1:9465/metrics']);
  const verdicts = pinsUnder(d.pinRoot).find((p) => p.endsWith('/verdicts'));
  assert.ok(verdicts, `verdicts pinned under ${d.pinRoot}: ${pinsUnder(d.pinRoot).join(', ')}`);
  // The kernel's own count of passed packets (key 0), summed over CPUs as bpftool formats it by BTF.
  const kernelPass = () => {
    const dump = JSON.parse(
      execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', join(d.pinRoot, verdicts)], {
        encoding: 'utf8',
      }),
    ) as Array<{ formatted: { key: number; values: Array<{ value: { packets: number } }> } }>;
    const pass = dump.find((e) => e.formatted.key === 0);
    return (pass?.formatted.values ?? []).reduce((n, v) => n + v.value.packets, 0);
  };
  const fixed = `deployment="fw",package="${pkg.name}",version="${pkg.version}"`;
  const passSeries = `bpfleet_xdp_firewall_packets_total{${fixed},verdict="pass"}`;
  let text = '';
  await until(
    () => {
      const before = kernelPass();
      text = scrape();
      return before >= 10 && series(text).get(passSeries) === before && kernelPass() === before;
    },
    'the exported pass count equals the kernel map',
    20_000,
    () => [kernelPass(), series(text).get(passSeries)],
  );
  assert.match(text, /^# TYPE bpfleet_xdp_firewall_packets_total counter$/m);
  assert.match(
    text,
    new RegExp(
      `^bpfleet_xdp_firewall_bytes_total\\{${fixed.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')},verdict="pass"\\} \\d+$`,
      'm',
    ),
  );
  assert.doesNotMatch(text, /bpfleet_program_metric/);
  // dns-observer's latency map as a histogram: 31 finite log2 bounds in seconds and +Inf, cumulative.
  assert.match(text, /^# TYPE bpfleet_dns_response_latency_seconds histogram$/m);
  const bounds = [
    ...text.matchAll(/^bpfleet_dns_response_latency_seconds_bucket\{[^}]*le="([^"]+)"\} \d+$/gm),
  ].map((m) => m[1]);
  assert.equal(bounds.length, 32);
  assert.deepEqual(bounds.slice(0, 4), ['0', '0.000001', '0.000003', '0.000007']);
  assert.equal(bounds[31], '+Inf');
  const dnsCount = `bpfleet_dns_response_latency_seconds_count{deployment="dns",package="${dns.name}",version="${dns.version}"}`;
  assert.equal(typeof series(text).get(dnsCount), 'number', dnsCount);
  assert.deepEqual(promtool(text), []);
});

test("the edge's /metrics: promtool passes; devices by presence and deployments by version and status", async () => {
  const d = device as PublishedDevice;
  let text = '';
  await until(
    async () => {
      text = await (await fetch(`${d.edge.url}/metrics`)).text();
      const s = series(text);
      const attached = (p: { name: string; version: string }) =>
        s.get(`bpfleet_edge_deployments{package="${p.name}",version="${p.version}",status="ATTACHED"}`);
      return attached(pkg) === 1 && attached(dns) === 1;
    },
    'the edge counts the deployment',
    10_000,
  );
  assert.equal(series(text).get('bpfleet_edge_devices{presence="online",disabled="false"}'), 1);
  assert.doesNotMatch(text, /device="/, 'no per-device series');
  assert.deepEqual(promtool(text), []);
});
