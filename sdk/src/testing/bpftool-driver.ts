// Kernel test plumbing through bpftool (libbpf 1.1): load with pinned maps, BPF_PROG_TEST_RUN, map dumps, cgroup attach.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfError } from '../errors.js';

function bpftool(args: string[], what: string): string {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new BpfError('BPFTOOL_FAILED', `${what}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout;
}

function hexBytes(bytes: Uint8Array): string[] {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0'));
}

export interface TestRunResult {
  retval: number;
  /** Average ns per run as the kernel measured it. */
  duration: number;
  dataOut: Uint8Array;
}

/** One object loaded under a private bpffs dir; `close()` unpins everything (the kernel then frees it). */
export class PinnedObject {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static load(object: string, options: { type?: string } = {}): PinnedObject {
    const dir = `/sys/fs/bpf/bpfleet-test-${randomBytes(6).toString('hex')}`;
    mkdirSync(dir);
    try {
      const type = options.type ? ['type', options.type] : [];
      bpftool(
        ['prog', 'loadall', object, join(dir, 'progs'), ...type, 'pinmaps', join(dir, 'maps')],
        `load ${object}`,
      );
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return new PinnedObject(dir);
  }

  program(name: string): string {
    return join(this.dir, 'progs', name);
  }

  mapPath(name: string): string {
    return join(this.dir, 'maps', name);
  }

  testRun(program: string, data: Uint8Array, repeat = 1): TestRunResult {
    const io = mkdtempSync(join(tmpdir(), 'bpfleet-run-'));
    try {
      writeFileSync(join(io, 'in'), data);
      const args = ['-j', 'prog', 'run', 'pinned', this.program(program), 'data_in', join(io, 'in')];
      args.push('data_out', join(io, 'out'), 'repeat', String(repeat));
      const out = JSON.parse(bpftool(args, `test run ${program}`)) as { retval: number; duration: number };
      return {
        retval: out.retval,
        duration: out.duration,
        dataOut: Uint8Array.from(readFileSync(join(io, 'out'))),
      };
    } finally {
      rmSync(io, { recursive: true, force: true });
    }
  }

  update(map: string, key: Uint8Array, value: Uint8Array): void {
    bpftool(
      [
        'map',
        'update',
        'pinned',
        this.mapPath(map),
        'key',
        'hex',
        ...hexBytes(key),
        'value',
        'hex',
        ...hexBytes(value),
      ],
      `update ${map}`,
    );
  }

  /** Every entry; per-CPU values come as one array per CPU. */
  dump(map: string): Array<{ key: Uint8Array; values: Uint8Array[] }> {
    const rows = JSON.parse(
      bpftool(['-j', 'map', 'dump', 'pinned', this.mapPath(map)], `dump ${map}`),
    ) as Array<{
      key: string[];
      value?: string[];
      values?: Array<{ cpu: number; value: string[] }>;
    }>;
    const bytes = (hex: string[]) => Uint8Array.from(hex.map((h) => Number.parseInt(h, 16)));
    return rows.map((r) => ({
      key: bytes(r.key),
      values: r.values ? r.values.map((v) => bytes(v.value)) : [bytes(r.value ?? [])],
    }));
  }

  attachCgroup(cgroup: string, attachType: string, program: string): void {
    bpftool(['cgroup', 'attach', cgroup, attachType, 'pinned', this.program(program)], `attach ${program}`);
  }

  detachCgroup(cgroup: string, attachType: string, program: string): void {
    bpftool(['cgroup', 'detach', cgroup, attachType, 'pinned', this.program(program)], `detach ${program}`);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
