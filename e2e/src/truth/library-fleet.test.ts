// End to end, the whole library through the fleet: each bpf-programs/ program built by `bpfleet build`, signed and
// published to the real edge, named with its default config in one operator-signed policy, deployed by the real
// agent, and seen attached by the kernel where it belongs — with the edge showing it ATTACHED.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PolicyAttach } from '@bpfleet/sdk/policy';
import { xdpPrograms } from '../fixtures/kernel-state.js';
import { cgroupPrograms, programNames, type TcxLink, tcxLinks } from './kernel-links.js';
import { type PublishedDevice, type ReportedProgram, startPublishedDevice } from './published-device.js';

const LIBRARY = fileURLToPath(new URL('../../../bpf-programs', import.meta.url));
const CLI = fileURLToPath(new URL('../../../sdk/dist/cli/main.js', import.meta.url));
const CGROUP2 = '/sys/fs/cgroup/unified';
const CGROUP = `h2k-lib-${randomBytes(3).toString('hex')}`;
// gtpu-lite's manifest says `n3`; this device's second XDP interface carries the test's tag instead.
const N3 = 'h2kn3';
const WAN = 'wan0';

type Where = { xdp: string } | { tcx: string; direction: 'ingress' | 'egress' } | { cgroup: string };

/** Per program: the policy's attach (none: the manifest's defaults) and where each of its programs must run. */
const EXPECTED: Array<{ program: string; attach?: PolicyAttach; kernel: Array<[string, Where]> }> = [
  { program: 'xdp-firewall', kernel: [['xdp_firewall', { xdp: WAN }]] },
  { program: 'gtpu-lite', attach: { interface: N3 }, kernel: [['gtpu_fast_path', { xdp: N3 }]] },
  {
    program: 'apn-tagger',
    kernel: [
      ['apn_tag', { tcx: WAN, direction: 'egress' }],
      ['apn_read', { tcx: WAN, direction: 'ingress' }],
    ],
  },
  {
    program: 'dns-observer',
    kernel: [
      ['dns_ingress', { tcx: WAN, direction: 'ingress' }],
      ['dns_egress', { tcx: WAN, direction: 'egress' }],
    ],
  },
  {
    program: 'int-telemetry',
    kernel: [
      ['int_source', { tcx: WAN, direction: 'egress' }],
      ['int_sink', { tcx: WAN, direction: 'ingress' }],
    ],
  },
  {
    program: 'app-traffic',
    attach: { cgroup: `/${CGROUP}` },
    kernel: [
      ['count_ingress', { cgroup: 'cgroup_inet_ingress' }],
      ['count_egress', { cgroup: 'cgroup_inet_egress' }],
    ],
  },
  {
    program: 'connect-guard',
    attach: { cgroup: `/${CGROUP}` },
    kernel: [
      ['guard_connect4', { cgroup: 'cgroup_inet4_connect' }],
      ['guard_connect6', { cgroup: 'cgroup_inet6_connect' }],
    ],
  },
  {
    program: 'tcp-rtt',
    attach: { cgroup: `/${CGROUP}` },
    kernel: [['tcp_rtt', { cgroup: 'cgroup_sock_ops' }]],
  },
];

let device: PublishedDevice | undefined;
let work: string;
let reported: ReportedProgram[] = [];

/** `bpfleet build` of every library program (one vmlinux.h for all), each to its own build folder. */
async function buildLibrary(): Promise<
  Array<{ program: string; name: string; version: string; file: string }>
> {
  const vmlinux = join(work, 'vmlinux.h');
  await writeFile(
    vmlinux,
    execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 256 * 1024 * 1024,
    }),
  );
  return Promise.all(
    EXPECTED.map(async ({ program }) => {
      const args = [
        CLI,
        'build',
        join(LIBRARY, program),
        '--vmlinux',
        vmlinux,
        '--build-dir',
        join(work, program),
      ];
      const { stdout } = await promisify(execFile)(process.execPath, [...args, '--json'], {
        encoding: 'utf8',
      });
      const r = JSON.parse(stdout) as {
        ok: boolean;
        name: string;
        version: string;
        package: { file: string };
      };
      assert.ok(r.ok, `bpfleet build ${program}`);
      return { program, name: r.name, version: r.version, file: r.package.file };
    }),
  );
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-h2k-library-'));
  mkdirSync(join(CGROUP2, CGROUP));
  const packages = await buildLibrary();
  device = await startPublishedDevice({
    tag: 'h2k',
    block: 103,
    namespaces: ['bpfleet'],
    // Every interface and cgroup the library attaches to here, explicitly: nothing else is allowed.
    allow: (net) => ({ interfaces: [net.wan, N3], cgroups: [`/${CGROUP}`] }),
  });
  device.net.inDevice('ip', ['link', 'add', N3, 'type', 'veth', 'peer', 'name', `${N3}p`]);
  device.net.inDevice('ip', ['link', 'set', N3, 'up']);
  device.net.inDevice('ip', ['link', 'set', `${N3}p`, 'up']);
  for (const p of packages) await device.publish(await readFile(p.file));
  await device.apply(
    packages.map((p) => {
      const attach = EXPECTED.find((e) => e.program === p.program)?.attach;
      return { id: p.program, package: p.name, version: p.version, ...(attach && { attach }) };
    }),
  );
  reported = await device.settled(EXPECTED.map((e) => e.program));
});

after(async () => {
  await device?.close();
  rmdirSync(join(CGROUP2, CGROUP), { recursive: false });
  await rm(work, { recursive: true, force: true });
});

const ifindex = (dev: string): number => {
  const [link] = JSON.parse(device?.net.inDevice('ip', ['-j', 'link', 'show', 'dev', dev]) ?? '[]') as Array<{
    ifindex: number;
  }>;
  return link?.ifindex ?? -1;
};

/** What the kernel has attached, asked once after the edge settled. */
interface KernelSnapshot {
  names: Map<number, string>;
  tcx: TcxLink[];
  cgroup: ReturnType<typeof cgroupPrograms>;
}
let snapshot: KernelSnapshot | undefined;

/** The names of the programs the kernel runs at `where`. */
function attachedAt(where: Where): string[] {
  snapshot ??= { names: programNames(), tcx: tcxLinks(), cgroup: cgroupPrograms(join(CGROUP2, CGROUP)) };
  const { names, tcx, cgroup } = snapshot;
  if ('xdp' in where) {
    return xdpPrograms(device?.net.deviceNs ?? '', where.xdp).map((id) => names.get(id) ?? `#${id}`);
  }
  if ('tcx' in where) {
    const index = ifindex(where.tcx);
    return tcx
      .filter((l) => l.ifindex === index && l.direction === where.direction)
      .map((l) => names.get(l.progId) ?? `#${l.progId}`);
  }
  return cgroup.filter((p) => p.attachType === where.cgroup).map((p) => p.name);
}

for (const e of EXPECTED) {
  test(`${e.program} from the library, deployed through the fleet, runs in the kernel`, () => {
    const shown = reported.find((p) => p.id === e.program);
    assert.equal(shown?.status, 'ATTACHED', `the edge shows ${e.program}: ${JSON.stringify(shown)}`);
    for (const [name, where] of e.kernel) {
      const found = attachedAt(where);
      assert.ok(
        found.includes(name.slice(0, 15)),
        `${name} at ${JSON.stringify(where)}: the kernel has ${JSON.stringify(found)}`,
      );
    }
  });
}
