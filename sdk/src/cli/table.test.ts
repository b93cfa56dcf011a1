import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable } from './table.js';

const header = ['DEVICE', 'STATUS', 'LAST ERROR'];
const rows = [
  ['cpe-1', 'FAILED', 'VERIFIER_REJECTED: R1 invalid mem access at insn 42 while reading the packet header'],
  ['cpe-22', 'ATTACHED', ''],
];

test('piped output keeps every character, columns padded to the widest cell', () => {
  const out = renderTable(header, rows).split('\n');
  assert.equal(out[0], 'DEVICE  STATUS    LAST ERROR');
  assert.equal(out[1], `cpe-1   FAILED    ${rows[0]![2]}`);
  assert.equal(out[2], 'cpe-22  ATTACHED');
});

test('on a terminal the widest column is shortened with an ellipsis to fit, ids kept whole', () => {
  const out = renderTable(header, rows, { width: 40 }).split('\n');
  for (const line of out) assert.ok(line.length <= 40, `${line.length}: ${line}`);
  assert.equal(out[1], 'cpe-1   FAILED    VERIFIER_REJECTED: R1…');
  assert.match(out[2]!, /^cpe-22 {2}ATTACHED$/);
});

test('a terminal too narrow for the kept columns still prints them whole', () => {
  const out = renderTable(['ID'], [['a-very-long-device-identifier']], { width: 10 });
  assert.equal(out.split('\n')[1], 'a-very-long-device-identifier');
});
