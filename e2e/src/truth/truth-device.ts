// The device-truth suite's device: the published device (real edge, fleet API, real agent) plus what these cases
// need on top: packages built from ./programs, a test cgroup in the allow-list, the edge's events, a clean slate.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceSummary } from '@bpfleet/sdk';
import { until } from '@bpfleet/sdk/test-kit';
import type { DeviceNetwork } from '../fixtures/device-network.js';
import { pinsUnder } from '../fixtures/kernel-state.js';
import { buildPackage } from '../fixtures/package-build.js';
import type { SignedArchive } from '../quickstart/publishing.js';
import { type PublishedDevice, startPublishedDevice } from './published-device.js';
import type { PackageSpec } from './truth-packages.js';

export const TAG = 'h7t';

/** Where cgroup v2 is mounted (the agent resolves policy cgroup paths under it too). */
export function cgroup2Root(): string {
  const mount = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[2] === 'cgroup2');
  if (!mount?.[1]) throw new Error('cgroup v2 is not mounted');
  return mount[1];
}

/** An event as the edge recorded it. */
export interface EdgeEvent {
  receivedAt: number;
  state: string;
  deployment?: string;
  version?: string;
  reason?: { code: string; message: string };
}

export type PolicyPrograms = Parameters<PublishedDevice['apply']>[0];
export type ReleasedPackage = SignedArchive & { name: string };

export interface TruthDevice extends Omit<PublishedDevice, 'close'> {
  /** The cgroup the allow-list names, relative to the cgroup2 root (`/h7t-…`). */
  cgroup: string;
  /** `bpfleet build`, signed, published to the edge registry, once per name@version; `name` is `acme/<name>`. */
  release(spec: PackageSpec): Promise<ReleasedPackage>;
  /** The device as the edge shows it (`GET /v1/fleet/devices/<id>`: programs, policy errors). */
  view(): Promise<DeviceSummary>;
  program(id: string): Promise<Awaited<ReturnType<PublishedDevice['reported']>>[number] | undefined>;
  /** Events the edge received since `since` (ms since the epoch), oldest first. */
  events(since: number): Promise<EdgeEvent[]>;
  /** Applies an empty policy and waits until the edge shows no program and no pin is left. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export async function startTruthDevice(): Promise<TruthDevice> {
  const cgroup = `/${TAG}-${process.pid}`;
  const cgroupPath = `${cgroup2Root()}${cgroup}`;
  mkdirSync(cgroupPath, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), `bpfleet-${TAG}-build-`));
  const removeLocal = async () => {
    try {
      rmdirSync(cgroupPath);
    } catch {
      // Already gone.
    }
    await rm(work, { recursive: true, force: true });
  };
  let device: PublishedDevice;
  try {
    device = await startPublishedDevice({
      tag: TAG,
      block: 110,
      namespaces: ['acme'],
      allow: (net) => ({ interfaces: [net.wan], cgroups: [cgroup] }),
    });
  } catch (err) {
    await removeLocal();
    throw err;
  }
  const d = device;
  let vmlinux: string | undefined;
  let built = 0;
  // Each name@version is built and published once (cases share them); the first build makes the vmlinux.h the
  // others reuse, so they wait for it and then run side by side.
  const released = new Map<string, Promise<ReleasedPackage>>();
  let firstBuild: Promise<unknown> | undefined;
  const program: TruthDevice['program'] = async (id) => (await d.reported()).find((p) => p.id === id);
  return {
    ...d,
    cgroup,
    release(spec) {
      const key = `${spec.manifest.name}@${spec.manifest.version}`;
      const known = released.get(key);
      if (known) return known;
      const dir = join(work, String(built++));
      const run = (async () => {
        await firstBuild;
        const b = await buildPackage({ ...spec, dir, ...(vmlinux && { vmlinux }) });
        vmlinux = b.vmlinux;
        const pkg = await d.publish(b.archive);
        return { ...pkg, name: `${pkg.namespace}/${pkg.name}` };
      })();
      firstBuild ??= run.catch(() => {});
      released.set(key, run);
      return run;
    },
    view: () => d.edge.fleet.getDevice(d.deviceId),
    program,
    async events(since) {
      const list = await d.edge.fleet.deviceEvents(d.deviceId, 500);
      return list
        .map(({ receivedAt, event }) => ({
          ...(event as Omit<EdgeEvent, 'receivedAt'>),
          receivedAt: Date.parse(receivedAt),
        }))
        .filter((e) => e.receivedAt >= since)
        .sort((x, y) => x.receivedAt - y.receivedAt);
    },
    async clear() {
      await d.apply([]);
      let last: unknown;
      await until(
        async () => {
          const programs = await d.reported();
          last = [programs.map((p) => [p.id, p.status]), pinsUnder(d.pinRoot)];
          return programs.length === 0 && pinsUnder(d.pinRoot).length === 0;
        },
        'the device cleared (no program at the edge, no pin)',
        20_000,
        () => [last, d.agent.logs().slice(-5)],
      );
    },
    async close() {
      await d.close();
      await removeLocal();
    },
  };
}

/** Runs a command in the device namespace: its stdout, or its stderr with ok=false. */
export function tryInDevice(net: DeviceNetwork, cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync('nsenter', [`--net=/run/netns/${net.deviceNs}`, cmd, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { ok: true, out };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
  }
}
