// End to end, per config type: a manifest and a C program with one `const volatile` of every type, `bpfleet build`,
// signed and published to the real edge, a signed policy setting each value (and a second deployment left at the
// defaults), the real agent: the kernel's .rodata of each attached program holds exactly those values.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '@bpfleet/sdk/test-kit';
import { xdpPrograms } from '../fixtures/kernel-state.js';
import { rodataOf } from './kernel-rodata.js';
import { type PublishedDevice, startPublishedDevice } from './published-device.js';

const SOURCE = fileURLToPath(new URL('../../testdata/config-types', import.meta.url));
const CLI = fileURLToPath(new URL('../../../sdk/dist/cli/main.js', import.meta.url));
const SECOND = 'h2kb';

// Expected bytes are written here with Node's own writers, in the host's byte order, never by bpfleet's codec.
const le = endianness() === 'LE';
const int = (size: 1 | 2 | 4 | 8, signed: boolean, value: bigint): Buffer => {
  const b = Buffer.alloc(size);
  if (size === 8) {
    if (signed) le ? b.writeBigInt64LE(value) : b.writeBigInt64BE(value);
    else le ? b.writeBigUInt64LE(value) : b.writeBigUInt64BE(value);
  } else if (signed) le ? b.writeIntLE(Number(value), 0, size) : b.writeIntBE(Number(value), 0, size);
  else le ? b.writeUIntLE(Number(value), 0, size) : b.writeUIntBE(Number(value), 0, size);
  return b;
};
const bytes = (...values: number[]) => Buffer.from(values);

interface Case {
  type: string;
  /** What the policy sets (as an operator writes it in JSON). */
  set: string | number | boolean;
  setBytes: Buffer;
  /** The manifest's default, which the second deployment keeps. */
  defaultBytes: Buffer;
}

const CASES: Case[] = [
  { type: 'u8', set: 7, setBytes: int(1, false, 7n), defaultBytes: int(1, false, 200n) },
  { type: 'u16', set: 513, setBytes: int(2, false, 513n), defaultBytes: int(2, false, 65000n) },
  { type: 'u32', set: 1, setBytes: int(4, false, 1n), defaultBytes: int(4, false, 4000000000n) },
  {
    type: 'u64',
    set: '18446744073709551557',
    setBytes: int(8, false, 18446744073709551557n),
    defaultBytes: int(8, false, 9007199254740993n),
  },
  { type: 's8', set: -1, setBytes: int(1, true, -1n), defaultBytes: int(1, true, -100n) },
  { type: 's16', set: -2, setBytes: int(2, true, -2n), defaultBytes: int(2, true, -30000n) },
  { type: 's32', set: -3, setBytes: int(4, true, -3n), defaultBytes: int(4, true, -2000000000n) },
  {
    type: 's64',
    set: '-9223372036854775807',
    setBytes: int(8, true, -9223372036854775807n),
    defaultBytes: int(8, true, -9007199254740993n),
  },
  { type: 'bool', set: false, setBytes: bytes(0), defaultBytes: bytes(1) },
  {
    type: 'ipv4',
    set: '198.18.103.9',
    setBytes: bytes(198, 18, 103, 9),
    defaultBytes: bytes(198, 18, 102, 1),
  },
  {
    type: 'ipv6',
    set: '2001:DB8::ff:102',
    setBytes: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x02),
    defaultBytes: bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
  },
  {
    type: 'mac',
    set: '0A:1b:2C:3d:4E:5f',
    setBytes: bytes(0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f),
    defaultBytes: bytes(2, 0, 0, 0, 0, 1),
  },
  {
    type: 'bytes',
    set: 'FFEE00CCBBAA0099',
    setBytes: bytes(0xff, 0xee, 0x00, 0xcc, 0xbb, 0xaa, 0x00, 0x99),
    defaultBytes: bytes(1, 2, 3, 4, 5, 6, 7, 8),
  },
];

let device: PublishedDevice | undefined;
let work: string;
let version: string;

/** The policy's two deployments: `set` on the wan interface with `config`, `dflt` on the second one with none. */
const deployments = (config: Record<string, string | number | boolean>) => [
  { id: 'set', package: 'acme/config-types', version, attach: { interface: device?.net.wan ?? '' }, config },
  { id: 'dflt', package: 'acme/config-types', version, attach: { interface: SECOND } },
];
const rodata: Record<'set' | 'dflt', Map<string, Buffer>> = { set: new Map(), dflt: new Map() };

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bpfleet-h2k-build-'));
  const build = JSON.parse(
    execFileSync(process.execPath, [CLI, 'build', SOURCE, '--build-dir', work, '--json'], {
      encoding: 'utf8',
    }),
  ) as { ok: boolean; package: { file: string } };
  assert.ok(build.ok, 'bpfleet build accepts a manifest with every config type');
  device = await startPublishedDevice({
    tag: 'h2k',
    block: 102,
    namespaces: ['acme'],
    allow: (net) => ({ interfaces: [net.wan, SECOND], cgroups: [] }),
  });
  const { net } = device;
  net.inDevice('ip', ['link', 'add', SECOND, 'type', 'veth', 'peer', 'name', `${SECOND}p`]);
  net.inDevice('ip', ['link', 'set', SECOND, 'up']);
  net.inDevice('ip', ['link', 'set', `${SECOND}p`, 'up']);
  version = (await device.publish(await readFile(build.package.file))).version;
  await device.apply(deployments(Object.fromEntries(CASES.map((c) => [`cfg_${c.type}`, c.set]))));
  const shown = await device.settled(['set', 'dflt']);
  for (const p of shown) assert.equal(p.status, 'ATTACHED', `${p.id}: ${p.lastError?.message}`);
  for (const [id, dev] of [
    ['set', net.wan],
    ['dflt', SECOND],
  ] as const) {
    const progs = xdpPrograms(net.deviceNs, dev);
    assert.equal(progs.length, 1, `one XDP program on ${dev}`);
    rodata[id] = rodataOf(progs[0] as number);
  }
});

after(async () => {
  await device?.close();
  await rm(work, { recursive: true, force: true });
});

for (const c of CASES) {
  test(`a ${c.type} config value set by a signed policy, and its manifest default, reach the kernel`, () => {
    const name = `cfg_${c.type}`;
    assert.deepEqual(rodata.set.get(name), c.setBytes, `${name} = ${JSON.stringify(c.set)} in .rodata`);
    assert.deepEqual(rodata.dflt.get(name), c.defaultBytes, `${name} keeps the manifest default in .rodata`);
  });
}

test('a changed config reaches the kernel: a program with the new .rodata on the hook, the other deployment untouched', async () => {
  const net = device?.net as PublishedDevice['net'];
  const [old] = xdpPrograms(net.deviceNs, net.wan);
  const others = xdpPrograms(net.deviceNs, SECOND);
  const config = Object.fromEntries(CASES.map((c) => [`cfg_${c.type}`, c.set]));
  await device?.apply(deployments({ ...config, cfg_bool: true, cfg_s64: '9223372036854775807' }));
  await until(
    () => xdpPrograms(net.deviceNs, net.wan).some((id) => id !== old),
    'a new program on the hook',
    30_000,
    () => device?.agent.logs().slice(-5),
  );
  const [now] = xdpPrograms(net.deviceNs, net.wan);
  const values = rodataOf(now as number);
  assert.deepEqual(values.get('cfg_bool'), bytes(1));
  assert.deepEqual(values.get('cfg_s64'), int(8, true, 9223372036854775807n));
  assert.deepEqual(values.get('cfg_u64'), int(8, false, 18446744073709551557n), 'unchanged values carried');
  assert.deepEqual(xdpPrograms(net.deviceNs, SECOND), others, 'the default deployment is not reloaded');
  const shown = (await device?.reported())?.find((p) => p.id === 'set');
  assert.equal(shown?.status, 'ATTACHED');
});

test('a value outside its type is refused by the edge, naming the field, and nothing changes on the device', async () => {
  const net = device?.net as PublishedDevice['net'];
  const running = xdpPrograms(net.deviceNs, net.wan);
  await assert.rejects(
    device?.apply(deployments({ cfg_u8: 256 })) ?? Promise.reject(),
    /config\.cfg_u8.*255/,
  );
  assert.deepEqual(xdpPrograms(net.deviceNs, net.wan), running);
});
