// connect-guard in the kernel: a process in a guarded cgroup connects to allowed and denied 198.18.x addresses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Collection, type Link, loadCollection, readU64 } from '../../bpf/index.js';
import {
  buildLibraryProgram,
  createCgroup,
  createNetns,
  encodeEntry,
  type LibraryProgram,
  runInCgroup,
} from './library-fixture.js';

// Listens on two ports of 198.18.1.1 and 198.18.2.1, then tries each connect and prints what happened.
const CHILD = `
const net = require('node:net');
const dgram = require('node:dgram');
const attempts = JSON.parse(process.argv[1]);
const listen = (host, port) => new Promise((r) => net.createServer((c) => c.end()).listen(port, host, r));
const tcp = (host, port) => new Promise((r) => {
  const s = net.connect(port, host);
  s.on('connect', () => { s.destroy(); r('ok'); });
  s.on('error', (e) => r(e.code));
});
const udp = (host, port) => new Promise((r) => {
  const s = dgram.createSocket('udp4');
  s.connect(port, host, (e) => { s.close(); r(e ? e.code : 'ok'); });
  s.on('error', (e) => { s.close(); r(e.code); });
});
process.stdin.once('data', async () => {
  for (const host of ['198.18.1.1', '198.18.2.1']) for (const port of [7001, 7002]) await listen(host, port);
  const out = [];
  for (const [proto, host, port] of attempts) out.push(await (proto === 'udp' ? udp : tcp)(host, port));
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
});
`;

const ATTEMPTS: [string, string, number][] = [
  ['tcp', '198.18.1.1', 7002], // 198.18.1.0/24, any port: allowed
  ['tcp', '198.18.2.1', 7001], // 198.18.2.1/32 port 7001: allowed
  ['tcp', '198.18.2.1', 7002], // 198.18.2.1/32 but another port: denied
  ['tcp', '::ffff:198.18.2.1', 7002], // the same through connect6 (IPv4-mapped on an IPv6 socket): denied
  ['tcp', '::ffff:198.18.1.1', 7001], // connect6, allowed
  ['udp', '198.18.3.1', 53], // no rule: denied
];

describe('connect-guard', () => {
  let program: LibraryProgram;
  const netns = createNetns('telco');
  after(() => netns.remove());
  before(async () => {
    program = await buildLibraryProgram('connect-guard');
    netns.exec('ip', ['addr', 'add', '198.18.1.1/32', 'dev', 'lo']);
    netns.exec('ip', ['addr', 'add', '198.18.2.1/32', 'dev', 'lo']);
    netns.exec('ip', ['addr', 'add', '198.18.3.1/32', 'dev', 'lo']);
  });

  /** Loads the guard, attaches both hooks to a fresh cgroup, guards it as app 7 (or not), runs the child. */
  async function attempt(config: Record<string, boolean>, guarded: boolean) {
    const coll: Collection = await loadCollection(program.object, { config });
    const cgroup = createCgroup();
    const links: Link[] = [];
    try {
      const put = (map: string, key: unknown, value: unknown) =>
        coll
          .map(map)
          .update(
            encodeEntry(program.manifest, map, 'key', key),
            encodeEntry(program.manifest, map, 'value', value),
          );
      if (guarded) put('guarded_apps', cgroup.id.toString(), 7);
      put('allow_rules', { prefixlen: 32 + 96 + 24, app: 7, addr: '::ffff:198.18.1.0' }, { port: 0 });
      put('allow_rules', { prefixlen: 32 + 128, app: 7, addr: '::ffff:198.18.2.1' }, { port: 7001 });
      // A rule of another app must not leak into app 7.
      put('allow_rules', { prefixlen: 32 + 96 + 16, app: 8, addr: '::ffff:198.18.0.0' }, { port: 0 });
      for (const name of ['guard_connect4', 'guard_connect6'])
        links.push(await coll.program(name).attach({ kind: 'cgroup', path: cgroup.path }));
      const results = JSON.parse(
        await runInCgroup(netns.name, cgroup.path, CHILD, [JSON.stringify(ATTEMPTS)]),
      ) as string[];
      const counters =
        coll
          .map('connects')
          .lookupPerCpu(encodeEntry(program.manifest, 'connects', 'key', cgroup.id.toString())) ?? [];
      const sum = (offset: number) =>
        counters.reduce((s, v) => s + readU64(v.subarray(offset, offset + 8)), 0n);
      return { results, allowed: sum(0), denied: sum(8) };
    } finally {
      for (const link of links) link.close();
      coll.close();
      cgroup.remove();
    }
  }

  it('lets a guarded app connect only where its rules allow and counts each denial', async () => {
    const { results, allowed, denied } = await attempt({}, true);
    assert.deepEqual(results, ['ok', 'ok', 'EPERM', 'EPERM', 'ok', 'EPERM']);
    assert.equal(allowed, 3n);
    assert.equal(denied, 3n);
  });

  it('with enforce off only counts: denied connects go on ', async () => {
    const { results, allowed, denied } = await attempt({ enforce: false }, true);
    assert.deepEqual(results, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(allowed, 3n);
    assert.equal(denied, 3n);
  });

  it('leaves an app that is not guarded alone', async () => {
    const { results, allowed, denied } = await attempt({}, false);
    assert.deepEqual(results, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(allowed, 6n);
    assert.equal(denied, 0n);
  });
});
