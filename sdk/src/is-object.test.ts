// isObject: what a parser may read fields of (an object) and what it must refuse (null, arrays, scalars).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isObject } from './is-object.js';

test('objects pass; null, arrays, strings, numbers and undefined do not', () => {
  assert.equal(isObject({}), true);
  assert.equal(isObject({ a: 1 }), true);
  assert.equal(isObject(Object.create(null)), true);
  for (const v of [null, undefined, [], [1], 'x', 1, 0n, true]) assert.equal(isObject(v), false, String(v));
});
