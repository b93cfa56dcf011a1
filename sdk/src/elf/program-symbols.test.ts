// Tests: the program names read from ELF symbols in JS are exactly the programs libbpf finds, for every test
// object and every library object built here (libbpf's open step is the observer).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCollection } from '../bpf/collection.js';
import { loadCollectionSpec } from '../bpf/collection-spec.js';
import { ROOT } from '../bpf/testing/fixtures.js';
import { readProgramNames } from './program-symbols.js';
import { writeBpfObject } from './write-object.js';

function objects(): string[] {
  const found: string[] = [];
  const testdata = join(ROOT, 'build', 'bpf');
  for (const f of readdirSync(testdata)) if (f.endsWith('.bpf.o')) found.push(join(testdata, f));
  const library = join(ROOT, 'bpf-programs');
  for (const program of readdirSync(library)) {
    const dir = join(library, program, 'build', 'bpf', 'x86');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.bpf.o')) found.push(join(dir, f));
  }
  return found;
}

test('JS and libbpf agree on the programs of every object', () => {
  const all = objects();
  assert.ok(
    all.some((p) => p.endsWith('xdp_alternatives.bpf.o')),
    'run npm run build:bpf first',
  );
  for (const path of all) {
    const bytes = readFileSync(path);
    const libbpf = loadCollectionSpec(bytes).programs.map((p) => p.name);
    assert.deepEqual(readProgramNames(bytes, path).sort(), [...libbpf].sort(), path);
  }
});

test('subprograms in .text are not programs; every SEC() function is', () => {
  assert.deepEqual(readProgramNames(readFileSync(join(ROOT, 'build', 'bpf', 'tracing_variants.bpf.o'))), [
    'h1c_wake_btf',
    'h1c_wake_raw',
    'h1c_wnew_btf',
    'h1c_wnew_raw',
    'h1c_swch_btf',
    'h1c_swch_raw',
  ]);
  assert.deepEqual(readProgramNames(readFileSync(join(ROOT, 'build', 'bpf', 'hidden_raw_tp.bpf.o'))).sort(), [
    'h1c_hidden',
    'h1c_visible',
  ]);
});

test('a written stand-in object: JS reads its programs, libbpf opens it with the same ones and loads it', async () => {
  const programs = [
    { name: 'h1c_w_xdp', section: 'xdp' },
    { name: 'h1c_w_tc', section: 'tc' },
    { name: 'h1c_w_raw', section: 'raw_tp/sys_enter' },
  ];
  const bytes = writeBpfObject(programs, { padding: new Uint8Array(5000).fill(7) });
  assert.ok(bytes.length > 5000);
  assert.deepEqual(
    readProgramNames(bytes),
    programs.map((p) => p.name),
  );
  const spec = loadCollectionSpec(bytes);
  assert.deepEqual(
    spec.programs.map((p) => [p.name, p.section]),
    programs.map((p) => [p.name, p.section]),
  );
  const coll = await loadCollection(bytes, { programs: ['h1c_w_xdp'] });
  try {
    assert.ok(coll.program('h1c_w_xdp').id > 0);
  } finally {
    coll.close();
  }
});
