// Runs a program's declarative tests in the kernel: each test gets a fresh load, its config and map entries.
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readElfSections, readFunctionSections } from '../compile/elf-sections.js';
import { BuildError, errorMessage } from '../errors.js';
import { encodeConfigValue, type FieldLayout, type Manifest } from '../manifest/index.js';
import { PinnedObject } from './bpftool-driver.js';
import { createTestCgroup } from './cgroup-traffic.js';
import { compareValue, decodeLayout, encodeLayout } from './map-values.js';
import { buildPacket } from './packet-builder.js';
import { patchRodata } from './rodata-patch.js';
import { type Expectation, type MapEntry, type ProgramTest, returnValue } from './test-file.js';

export interface TestOutcome {
  name: string;
  ok: boolean;
  failures: string[];
  /** ns per run as the kernel measured it (packet tests). */
  durationNs?: number;
}

const CGROUP_ATTACH: Record<string, string> = {
  'cgroup_skb/ingress': 'ingress',
  'cgroup_skb/egress': 'egress',
  sockops: 'sock_ops',
};

function layoutOf(manifest: Manifest, map: string): { key: FieldLayout; value: FieldLayout } {
  const layout = manifest.maps?.[map]?.layout;
  if (!layout)
    throw new BuildError(
      'BAD_TEST',
      `map ${map}: the manifest gives no layout, so tests cannot read or write it`,
    );
  return layout;
}

class Loaded {
  private constructor(
    readonly pinned: PinnedObject,
    readonly sections: Map<string, string>,
  ) {}

  static async load(
    object: Uint8Array,
    manifest: Manifest,
    config: Record<string, unknown> = {},
  ): Promise<Loaded> {
    const values = new Map<string, Uint8Array>();
    for (const [name, value] of Object.entries(config)) {
      const decl = manifest.config?.[name];
      if (!decl) throw new BuildError('BAD_TEST', `config ${name}: not declared in the manifest`);
      values.set(name, encodeConfigValue(decl, value));
    }
    const bytes = patchRodata(object, values);
    const sections = readFunctionSections(readElfSections(bytes));
    const dir = await mkdtemp(join(tmpdir(), 'bpfleet-test-'));
    try {
      await writeFile(join(dir, 'object.o'), bytes);
      // bpftool (libbpf 1.1) does not know tcx/ SEC names; those programs load as sched_cls.
      const tcx = [...sections.values()].some((s) => s.startsWith('tcx/'));
      return new Loaded(PinnedObject.load(join(dir, 'object.o'), tcx ? { type: 'tc' } : {}), sections);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  write(manifest: Manifest, maps: Record<string, MapEntry[]> = {}): void {
    for (const [map, entries] of Object.entries(maps)) {
      const layout = layoutOf(manifest, map);
      for (const [i, e] of entries.entries()) {
        this.pinned.update(
          map,
          encodeLayout(layout.key, e.key, `${map}[${i}].key`),
          encodeLayout(layout.value, e.value, `${map}[${i}].value`),
        );
      }
    }
  }

  /** `$cgroup` in a key stands for the id of the cgroup the traffic came from. */
  compare(manifest: Manifest, maps: Expectation['maps'] = {}, cgroupId?: string): string[] {
    const failures: string[] = [];
    for (const [map, entries] of Object.entries(maps)) {
      const layout = layoutOf(manifest, map);
      const rows = this.pinned.dump(map);
      for (const [i, e] of entries.entries()) {
        const keyValue = e.key === '$cgroup' && cgroupId ? cgroupId : e.key;
        const key = Buffer.from(encodeLayout(layout.key, keyValue, `${map}[${i}].key`));
        const row = rows.find((r) => key.equals(r.key));
        if (!row) failures.push(`map ${map}: no entry for key ${JSON.stringify(e.key)}`);
        else
          failures.push(
            ...compareValue(
              layout.value,
              decodeLayout(layout.value, row.values),
              e.value,
              `map ${map}[${JSON.stringify(e.key)}]`,
            ),
          );
      }
    }
    return failures;
  }
}

async function runOne(object: Uint8Array, manifest: Manifest, test: ProgramTest): Promise<TestOutcome> {
  const loaded = await Loaded.load(object, manifest, test.config);
  try {
    if (test.kind === 'packet') {
      loaded.write(manifest, test.maps);
      const input = buildPacket(test.input.packet);
      const result = loaded.pinned.testRun(test.program, input, test.repeat ?? 1);
      const failures: string[] = [];
      if (test.expect.return !== undefined) {
        const want = returnValue(test.expect.return, test.name);
        // The kernel reports the u32 return value; TCX_NEXT (-1) comes back as 0xffffffff.
        if (result.retval >>> 0 !== want >>> 0)
          failures.push(`return: expected ${test.expect.return} (${want}), got ${result.retval | 0}`);
      }
      if (test.expect.packet !== undefined) {
        const want = Buffer.from(
          test.expect.packet === 'unchanged' ? input : buildPacket(test.expect.packet),
        );
        if (!want.equals(result.dataOut)) {
          failures.push(
            `packet: expected ${want.toString('hex')}, got ${Buffer.from(result.dataOut).toString('hex')}`,
          );
        }
      }
      failures.push(...loaded.compare(manifest, test.expect.maps));
      return { name: test.name, ok: failures.length === 0, failures, durationNs: result.duration };
    }
    if (test.traffic.exec) {
      throw new BuildError(
        'NOT_SUPPORTED',
        'exec traffic needs a tracepoint attach, which this runner (bpftool) cannot make yet',
      );
    }
    const cg = createTestCgroup('test');
    const attached: Array<[string, string]> = [];
    try {
      for (const [program, section] of loaded.sections) {
        const type = CGROUP_ATTACH[section];
        if (!type) continue;
        loaded.pinned.attachCgroup(cg.cgroup, type, program);
        attached.push([type, program]);
      }
      if (attached.length === 0)
        throw new BuildError('BAD_TEST', 'traffic tests need a cgroup_skb or sockops program');
      await cg.run(test.traffic);
      // A cgroup v2 id is the inode number of the cgroup's directory.
      const failures = loaded.compare(manifest, test.expect.maps, String(statSync(cg.cgroup).ino));
      return { name: test.name, ok: failures.length === 0, failures };
    } finally {
      for (const [type, program] of attached) loaded.pinned.detachCgroup(cg.cgroup, type, program);
      cg.close();
    }
  } catch (err) {
    return { name: test.name, ok: false, failures: [errorMessage(err)] };
  } finally {
    loaded.pinned.close();
  }
}

/** Runs every test against the object at `objectPath`; a test that throws counts as failed with its message. */
export async function runProgramTests(
  objectPath: string,
  manifest: Manifest,
  tests: ProgramTest[],
): Promise<TestOutcome[]> {
  const object = new Uint8Array(await readFile(objectPath));
  const outcomes: TestOutcome[] = [];
  for (const test of tests) {
    try {
      outcomes.push(await runOne(object, manifest, test));
    } catch (err) {
      outcomes.push({ name: test.name, ok: false, failures: [errorMessage(err)] });
    }
  }
  return outcomes;
}
