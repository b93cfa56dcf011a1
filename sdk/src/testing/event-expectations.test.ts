// tests.json `expect.events` in the kernel: records a program emits while a test runs, counted and matched by field.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../bpf/testing/fixtures.js';
import { parseManifest } from '../manifest/index.js';
import { runProgramTests } from './run-program-tests.js';
import { parseTestFile } from './test-file.js';

const OBJECT = join(ROOT, 'build', 'bpf', 'event_burst.bpf.o');
const manifest = parseManifest({
  name: 'evs/burst',
  version: '1.0.0',
  license: 'GPL',
  programs: [{ name: 'emit_burst' }],
  config: { tag: { type: 'u32', default: 0 } },
  maps: {
    burst_events: { events: { record: { seq: 'u64', cpu: 'u32', tag: 'u32' }, lostCounter: 'burst_lost' } },
    burst_lost: { layout: { key: 'u32', value: 'u64' } },
    burst_seq: { layout: { key: 'u32', value: 'u64' } },
  },
  requires: { arches: ['x86'] },
});

const packet = { ipv4: { src: '198.18.135.1', dst: '198.18.135.2', proto: 17 }, payload: '00' };

function tests(expect: unknown): ReturnType<typeof parseTestFile> {
  return parseTestFile(
    JSON.stringify({
      tests: [
        { name: 'burst', program: 'emit_burst', config: { tag: 9 }, input: { packet }, repeat: 5, expect },
      ],
    }),
    'tests.json',
  );
}

test('a test asserts the records a run emitted: their count and fields', async () => {
  const [outcome] = await runProgramTests(
    OBJECT,
    manifest,
    tests({
      return: 'XDP_PASS',
      events: { burst_events: { count: 5, min: 5, records: [{ seq: 0, tag: 9 }, { seq: '4' }] } },
      maps: { burst_seq: [{ key: 0, value: 5 }] },
    }),
  );
  assert.deepEqual(outcome?.failures, []);
  assert.equal(outcome?.ok, true);
});

test('a wrong count or a record not emitted fails the test, saying what came', async () => {
  const [outcome] = await runProgramTests(
    OBJECT,
    manifest,
    tests({ events: { burst_events: { count: 6, records: [{ seq: 7 }] } } }),
  );
  assert.equal(outcome?.ok, false);
  assert.equal(outcome?.failures[0], 'events burst_events: expected 6 records, got 5');
  assert.match(
    outcome?.failures[1] ?? '',
    /^events burst_events: records\[0\] \{"seq":7\} not among the 5 records \(first: \{"seq":0,"cpu":\d+,"tag":9\}\)$/,
  );
  assert.equal(outcome?.failures.length, 2);
});

test('a stream the manifest does not declare is a test error', async () => {
  const [outcome] = await runProgramTests(OBJECT, manifest, tests({ events: { burst_lost: { count: 1 } } }));
  assert.equal(outcome?.ok, false);
  assert.match(outcome?.failures[0] ?? '', /events burst_lost: the manifest declares no event stream/);
});

test('a traffic test asserts the records of an exec tracer (tp_btf, ring buffer) for the execs it ran', async () => {
  const execManifest = parseManifest({
    name: 'evs/exec',
    version: '1.0.0',
    license: 'GPL',
    programs: [{ name: 'on_exec' }, { name: 'count_exec_raw' }, { name: 'count_exec_tp' }],
    config: { tag: { type: 'u32', default: 0 } },
    maps: {
      events: { events: { record: { pid: 'u32', tag: 'u32', comm: { type: 'string', size: 16 } } } },
      exec_counts: { layout: { key: 'u32', value: 'u64' } },
    },
    requires: { arches: ['x86'] },
  });
  const [outcome] = await runProgramTests(
    join(ROOT, 'build', 'bpf', 'exec_events.bpf.o'),
    execManifest,
    parseTestFile(
      JSON.stringify({
        tests: [
          {
            name: 'three execs',
            kind: 'traffic',
            config: { tag: 135 },
            traffic: { exec: { count: 3 } },
            expect: { events: { events: { min: 3, records: [{ comm: 'true', tag: 135 }] } } },
          },
        ],
      }),
      'tests.json',
    ),
  );
  assert.deepEqual(outcome?.failures, []);
});
