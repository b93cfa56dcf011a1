import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blocks, type FailureMark, FailureMarks, isTransientFailure, retryDelayMs } from './failure-marks.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');

test('failure marks: keyed by host, bounded, dropped for ids no policy names, old forms dropped', () => {
  const subject = (i: number) => ({ id: `p${i}`, digest: 'sha256:x', configDigest: 'sha256:c' });
  const marks = new FailureMarks({ legacy: { code: 'LOAD_EPERM', message: 'old form' } }, 'host-a');
  assert.equal(marks.size, 0);
  assert.equal(marks.takeChanged(), true, 'dropping the old form is saved');
  for (let i = 0; i < 70; i++) marks.record(subject(i), { code: 'LOAD_EPERM', message: `m${i}` }, NOW + i);
  marks.prune(new Set(Array.from({ length: 70 }, (_, i) => `p${i}`).filter((id) => id !== 'p69')));
  assert.equal(marks.size, 64);
  assert.equal(marks.get(subject(69)), undefined, 'no policy names p69');
  assert.equal(marks.get(subject(4)), undefined, 'the oldest beyond 64 went');
  assert.ok(marks.get(subject(5)));
  const saved: Record<string, FailureMark> = JSON.parse(JSON.stringify(marks.toRecord()));
  assert.equal(new FailureMarks(saved, 'host-a').size, 64);
  assert.equal(new FailureMarks(saved, 'host-b').size, 0, 'a new kernel or capabilities: tried again');
});

test('transient failures back off from 2 s doubling to 5 min; lasting ones block until something changes', () => {
  assert.deepEqual([1, 2, 3, 4, 10, 30].map(retryDelayMs), [2_000, 4_000, 8_000, 16_000, 300_000, 300_000]);
  for (const code of [
    'XDP_BUSY',
    'LINK_EBUSY',
    'LOAD_ENOMEM',
    'MAP_EAGAIN',
    'NO_SUCH_INTERFACE',
    'LINK_ENODEV',
  ])
    assert.equal(isTransientFailure(code), true, code);
  for (const code of [
    'VERIFIER_REJECTED',
    'LOAD_EPERM',
    'REQUIREMENTS_NOT_MET',
    'DIGEST_MISMATCH',
    'FETCH_FAILED',
  ])
    assert.equal(isTransientFailure(code), false, code);
  const marks = new FailureMarks({}, 'h');
  const subject = { id: 'fw', digest: 'sha256:x', configDigest: 'sha256:c' };
  const busy = { code: 'XDP_BUSY', message: 'busy' };
  assert.equal(marks.record(subject, busy, NOW).retryAt, new Date(NOW + 2_000).toISOString());
  const second = marks.record(subject, busy, NOW);
  assert.equal(second.attempts, 2);
  assert.equal(second.retryAt, new Date(NOW + 4_000).toISOString());
  assert.equal(blocks(second, NOW + 3_999), true);
  assert.equal(blocks(second, NOW + 4_000), false);
  const lasting = marks.record({ ...subject, id: 'other' }, { code: 'LOAD_EPERM', message: 'm' }, NOW);
  assert.equal(lasting.retryAt, undefined);
  assert.equal(blocks(lasting, NOW + 10 * 365 * 86_400_000), true);
  marks.forget(subject);
  assert.equal(marks.get(subject), undefined);
});
