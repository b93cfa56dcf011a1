// The declarative test file of a program folder (`tests.json`): packet tests and real-traffic tests.
import { BuildError } from '../errors.js';
import { isObject } from '../is-object.js';
import type { Traffic } from './cgroup-traffic.js';
import type { EventExpectations } from './event-expectations.js';
import type { PacketInput } from './packet-builder.js';

export interface MapEntry {
  key: unknown;
  value: unknown;
}

export interface Expectation {
  /** The program's return value: a number or a name (XDP_PASS, TC_ACT_SHOT, TCX_NEXT, …). */
  return?: number | string;
  /** The packet after the program: `unchanged` or the packet it should be. */
  packet?: 'unchanged' | PacketInput;
  /** Entries the maps must hold afterwards; per-CPU values are summed. */
  maps?: Record<string, MapEntry[]>;
  /** Records the program's event streams (ring buffers) delivered while the test ran, by stream. */
  events?: EventExpectations;
}

export interface PacketTest {
  kind: 'packet';
  name: string;
  program: string;
  config?: Record<string, unknown>;
  /** Entries written before the run. */
  maps?: Record<string, MapEntry[]>;
  input: { packet: PacketInput };
  repeat?: number;
  expect: Expectation;
}

/** Real traffic from a process in a fresh cgroup inside a fresh network namespace (cgroup and tracing programs). */
export interface TrafficTest {
  kind: 'traffic';
  name: string;
  config?: Record<string, unknown>;
  traffic: Traffic;
  expect: Pick<Expectation, 'maps' | 'events'>;
}

export type ProgramTest = PacketTest | TrafficTest;

const RETURN_NAMES: Record<string, number> = {
  XDP_ABORTED: 0,
  XDP_DROP: 1,
  XDP_PASS: 2,
  XDP_TX: 3,
  XDP_REDIRECT: 4,
  TC_ACT_OK: 0,
  TC_ACT_SHOT: 2,
  TC_ACT_REDIRECT: 7,
  TCX_NEXT: -1,
  TCX_PASS: 0,
  TCX_DROP: 2,
  TCX_REDIRECT: 7,
};

export function returnValue(value: number | string, where: string): number {
  if (typeof value === 'number') return value;
  const n = RETURN_NAMES[value];
  if (n === undefined) throw new BuildError('BAD_TEST', `${where}: unknown return name ${value}`);
  return n;
}

/** `XDP_PASS (2)`: the got-value named in the family the test's expectation used (XDP_, TC_ACT_, TCX_). */
export function describeReturn(got: number, expected: number | string): string {
  const family = typeof expected === 'string' ? expected.replace(/_[A-Z]+$/, '_') : undefined;
  const name = family
    ? Object.entries(RETURN_NAMES).find(([n, v]) => v === got && n.startsWith(family))?.[0]
    : undefined;
  return name ? `${name} (${got})` : String(got);
}

export function parseTestFile(text: string, file: string): ProgramTest[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BuildError('BAD_TEST', `${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(json) || !Array.isArray(json.tests))
    throw new BuildError('BAD_TEST', `${file}: expected {"tests": [...]}`);
  return json.tests.map((t: unknown, i: number) => {
    const where = `${file} tests[${i}]`;
    if (!isObject(t) || typeof t.name !== 'string')
      throw new BuildError('BAD_TEST', `${where}: a test needs a name`);
    if (!isObject(t.expect)) throw new BuildError('BAD_TEST', `${where} (${t.name}): expect is missing`);
    if (t.kind === 'traffic') {
      if (!isObject(t.traffic)) throw new BuildError('BAD_TEST', `${where} (${t.name}): traffic is missing`);
      return { ...t, kind: 'traffic' } as unknown as TrafficTest;
    }
    if (t.kind !== undefined && t.kind !== 'packet')
      throw new BuildError('BAD_TEST', `${where}: unknown kind ${String(t.kind)}`);
    if (typeof t.program !== 'string')
      throw new BuildError('BAD_TEST', `${where} (${t.name}): program is missing`);
    if (!isObject(t.input) || t.input.packet === undefined) {
      throw new BuildError('BAD_TEST', `${where} (${t.name}): input.packet is missing`);
    }
    return { ...t, kind: 'packet' } as unknown as PacketTest;
  });
}
