// Runs a program's declarative tests in the kernel through the loader: each test gets a fresh load, its config and maps.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import {
  type BpfMap,
  type Collection,
  type ConfigValue,
  type Link,
  loadCollection,
  loadCollectionSpec,
  testRun,
} from '../bpf/index.js';
import { BuildError, errorMessage } from '../errors.js';
import {
  checkObjectPrograms,
  encodeConfigValue,
  type FieldLayout,
  type Manifest,
} from '../manifest/index.js';
import { createTestCgroup } from './cgroup-traffic.js';
import { captureEvents } from './event-expectations.js';
import { compareValue, decodeLayout, encodeLayout } from './map-values.js';
import { buildPacket } from './packet-builder.js';
import {
  describeReturn,
  type Expectation,
  type MapEntry,
  type ProgramTest,
  returnValue,
} from './test-file.js';

export interface TestOutcome {
  name: string;
  ok: boolean;
  failures: string[];
  /** ns per run as the kernel measured it (packet tests). */
  durationNs?: number;
}

function layoutOf(manifest: Manifest, map: string): { key: FieldLayout; value: FieldLayout } {
  const layout = manifest.maps?.[map]?.layout;
  if (!layout)
    throw new BuildError(
      'BAD_TEST',
      `map ${map}: the manifest gives no layout, so tests cannot read or write it`,
    );
  return layout;
}

// The loader writes the manifest's encoding as it is; libbpf loads only objects of the host's byte order.
const HOST_ORDER = endianness() === 'LE' ? 'le' : 'be';

async function load(
  object: Uint8Array,
  manifest: Manifest,
  config: Record<string, unknown> = {},
): Promise<Collection> {
  const spec = loadCollectionSpec(object);
  const values: Record<string, ConfigValue> = {};
  for (const [name, value] of Object.entries(config)) {
    const decl = manifest.config?.[name];
    const variable = spec.variables.find((v) => v.name === name);
    if (!decl || !variable)
      throw new BuildError('BAD_TEST', `config ${name}: not declared in the manifest and the code`);
    values[name] = encodeConfigValue(decl, value, HOST_ORDER);
  }
  // As on a device: only the programs the manifest lists to load, so a test never exercises a `load: false` one.
  const programs = checkObjectPrograms(
    manifest,
    spec.programs.map((p) => p.name),
    `test ${manifest.name}`,
  );
  return loadCollection(spec, { config: values, programs });
}

/** One value for every CPU of a per-CPU map, each in its 8-byte aligned slot. */
function valueFor(map: BpfMap, value: Uint8Array): Uint8Array {
  if (!map.perCpu) return value;
  const slot = Math.ceil(map.info.valueSize / 8) * 8;
  const out = new Uint8Array(map.valueBufferSize);
  for (let at = 0; at < out.length; at += slot) out.set(value, at);
  return out;
}

function writeMaps(coll: Collection, manifest: Manifest, maps: Record<string, MapEntry[]> = {}): void {
  for (const [name, entries] of Object.entries(maps)) {
    const layout = layoutOf(manifest, name);
    const map = coll.map(name);
    for (const [i, e] of entries.entries()) {
      const key = encodeLayout(layout.key, e.key, `${name}[${i}].key`);
      map.update(key, valueFor(map, encodeLayout(layout.value, e.value, `${name}[${i}].value`)));
    }
  }
}

const ARRAY_TYPES = new Set(['array', 'percpu_array']);

/** `$cgroup` in a key stands for the id of the cgroup the traffic came from. */
function compareMaps(
  coll: Collection,
  manifest: Manifest,
  maps: Expectation['maps'] = {},
  cgroupId?: string,
): string[] {
  const failures: string[] = [];
  for (const [name, entries] of Object.entries(maps)) {
    const layout = layoutOf(manifest, name);
    const map = coll.map(name);
    // `[]` says the map holds nothing; before, it checked nothing at all.
    if (entries.length === 0) {
      if (ARRAY_TYPES.has(map.info.type))
        failures.push(`map ${name}: a ${map.info.type} map has every key; list the keys and values to check`);
      else if (map.keys().length > 0)
        failures.push(`map ${name}: expected no entries, found ${map.keys().length}`);
      continue;
    }
    for (const [i, e] of entries.entries()) {
      const keyValue = e.key === '$cgroup' && cgroupId ? cgroupId : e.key;
      const key = encodeLayout(layout.key, keyValue, `${name}[${i}].key`);
      const values = map.perCpu ? map.lookupPerCpu(key) : [map.lookup(key)].filter((v) => v !== undefined);
      if (!values || values.length === 0)
        failures.push(`map ${name}: no entry for key ${JSON.stringify(e.key)}`);
      else {
        const decoded = decodeLayout(
          layout.value,
          values.map((v) => v.subarray(0, map.info.valueSize)),
        );
        failures.push(
          ...compareValue(layout.value, decoded, e.value, `map ${name}[${JSON.stringify(e.key)}]`),
        );
      }
    }
  }
  return failures;
}

async function runOne(object: Uint8Array, manifest: Manifest, test: ProgramTest): Promise<TestOutcome> {
  const coll = await load(object, manifest, test.config);
  try {
    if (test.kind === 'packet') {
      writeMaps(coll, manifest, test.maps);
      const input = buildPacket(test.input.packet);
      const events = await captureEvents(coll, manifest, test.expect.events);
      let failures: string[] = [];
      let result: ReturnType<typeof testRun>;
      try {
        result = testRun(coll.program(test.program), input, { repeat: test.repeat ?? 1 });
      } finally {
        // Always: a drain left running would keep the test process alive.
        failures = await events.finish();
      }
      if (test.expect.return !== undefined) {
        const want = returnValue(test.expect.return, test.name);
        if (result.retval !== want)
          failures.push(
            `return: expected ${describeReturn(want, test.expect.return)}, got ${describeReturn(result.retval, test.expect.return)}`,
          );
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
      failures.push(...compareMaps(coll, manifest, test.expect.maps));
      return { name: test.name, ok: failures.length === 0, failures, durationNs: result.durationNs };
    }
    const cg = createTestCgroup('test');
    const links: Link[] = [];
    try {
      for (const program of coll.programs.values()) {
        const { attach } = program.spec;
        if (attach === 'cgroup') links.push(await program.attach({ kind: 'cgroup', path: cg.cgroup }));
        else if (attach === 'tracing') links.push(await program.attach());
      }
      if (links.length === 0)
        throw new BuildError('BAD_TEST', 'traffic tests need a cgroup or tracing program');
      const events = await captureEvents(coll, manifest, test.expect.events);
      try {
        await cg.run(test.traffic);
      } catch (err) {
        await events.finish();
        throw err;
      }
      // A cgroup v2 id is the inode number of the cgroup's directory.
      const failures = await events.finish();
      failures.push(...compareMaps(coll, manifest, test.expect.maps, String(statSync(cg.cgroup).ino)));
      return { name: test.name, ok: failures.length === 0, failures };
    } finally {
      for (const link of links) link.close();
      cg.close();
    }
  } catch (err) {
    return { name: test.name, ok: false, failures: [errorMessage(err)] };
  } finally {
    coll.close();
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
