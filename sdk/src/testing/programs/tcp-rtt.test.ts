// tcp-rtt in the kernel: real TCP over loopback from processes in two app cgroups under one attach point.
import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Collection, loadCollection } from '../../bpf/index.js';
import { decodeLayout } from '../map-values.js';
import {
  buildLibraryProgram,
  createCgroup,
  createNetns,
  encodeEntry,
  type LibraryProgram,
  runInCgroup,
} from './library-fixture.js';

// Opens n connections to its own server on 198.18.5.1; each sends 64 KiB that the server echoes back.
const CHILD = `
const net = require('node:net');
const n = Number(process.argv[1]);
process.stdin.once('data', () => {
  const server = net.createServer((c) => c.pipe(c)).listen(0, '198.18.5.1', () => {
    let open = n;
    for (let i = 0; i < n; i++) {
      const c = net.connect(server.address().port, '198.18.5.1');
      let got = 0;
      c.on('data', (d) => { got += d.length; if (got === 65536) c.end(); });
      c.on('close', () => { if (--open === 0) { server.close(); process.exit(0); } });
      c.write(Buffer.alloc(65536, i));
    }
  });
});
`;

describe('tcp-rtt', () => {
  let program: LibraryProgram;
  const netns = createNetns('telco');
  const parent = createCgroup();
  const apps = { a: join(parent.path, 'app-a'), b: join(parent.path, 'app-b') };
  after(() => {
    for (const dir of Object.values(apps)) rmdirSync(dir);
    parent.remove();
    netns.remove();
  });
  before(async () => {
    program = await buildLibraryProgram('tcp-rtt');
    netns.exec('ip', ['addr', 'add', '198.18.5.1/32', 'dev', 'lo']);
    for (const dir of Object.values(apps)) mkdirSync(dir);
  });

  async function traffic(config: Record<string, bigint>) {
    const coll: Collection = await loadCollection(program.object, { config });
    const link = await coll.program('tcp_rtt').attach({ kind: 'cgroup', path: parent.path });
    try {
      await runInCgroup(netns.name, apps.a, CHILD, ['3']);
      await runInCgroup(netns.name, apps.b, CHILD, ['1']);
    } catch (err) {
      link.close();
      coll.close();
      throw err;
    }
    link.close();
    const read = (map: string, key: unknown) => {
      const layout = program.manifest.maps?.[map]?.layout;
      const values = coll.map(map).lookupPerCpu(encodeEntry(program.manifest, map, 'key', key)) ?? [];
      return layout && values.length > 0 ? decodeLayout(layout.value, values) : undefined;
    };
    return { coll, read };
  }

  const idOf = (path: string) => String(statSync(path).ino);

  it('keeps a histogram per app: connections of both ends, samples in log2 buckets that add up', async () => {
    const { coll, read } = await traffic({});
    try {
      const a = read('rtt_by_app', idOf(apps.a));
      const b = read('rtt_by_app', idOf(apps.b));
      assert.equal(a?.connections, '6', 'three connections, client and server side');
      assert.equal(b?.connections, '2');
      assert.equal(read('rtt_by_app', idOf(parent.path)), undefined, 'the attach point is not an app here');
      for (const [app, totals] of [
        [apps.a, a],
        [apps.b, b],
      ] as const) {
        assert.ok(Number(totals?.samples) > 0, `${app} has RTT samples`);
        let inBuckets = 0;
        for (let bucket = 0; bucket < 32; bucket++)
          inBuckets += Number(read('rtt_histogram', { cgroup: idOf(app), bucket })?.samples ?? 0);
        assert.equal(String(inBuckets), totals?.samples, 'every sample is in one bucket');
      }
    } finally {
      coll.close();
    }
  });

  it('folds nested cgroups into their ancestor at cgroup_level', async () => {
    const { coll, read } = await traffic({ cgroup_level: 1n });
    try {
      assert.equal(read('rtt_by_app', idOf(parent.path))?.connections, '8');
      assert.equal(read('rtt_by_app', idOf(apps.a)), undefined);
    } finally {
      coll.close();
    }
  });
});
