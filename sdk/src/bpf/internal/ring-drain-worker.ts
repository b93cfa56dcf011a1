// The ring drain's worker thread, as source: it binds libbpf's ring buffer through its own koffi instance.
// A source string rather than a file: the agent ships as one esbuild bundle, and a worker needs code of its own.
// The sample callback runs on the worker's own thread (cheap, no hop to the main loop); samples are copied
// into a batch that is transferred to the main thread. At most `maxInFlight` batches are unacknowledged: past
// that the worker stops consuming, the ring fills and the program's own reserves fail (it counts them).

/** `ctl` (Int32Array over a SharedArrayBuffer): [0] stop when 1, [1] batches posted and not yet acknowledged. */
export const RING_DRAIN_WORKER = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const w = workerData;
const koffi = require(w.koffiPath);
const lib = koffi.load('libbpf.so.1');
koffi.opaque('bpfleet_drain_ring');
const sampleFn = koffi.proto('int bpfleet_drain_sample_fn(void *ctx, void *data, size_t size)');
const ringNew = lib.func('bpfleet_drain_ring *ring_buffer__new(int fd, bpfleet_drain_sample_fn *cb, void *ctx, void *opts)');
const ringPoll = lib.func('int ring_buffer__poll(bpfleet_drain_ring *rb, int timeout_ms)');
const ringConsume = lib.func('int ring_buffer__consume(bpfleet_drain_ring *rb)');
const ringFree = lib.func('void ring_buffer__free(bpfleet_drain_ring *rb)');
const ctl = new Int32Array(w.ctl);
const FULL = -100000;
const EINTR = 4;
let bytes = new Uint8Array(w.maxBytes);
let sizes = new Uint32Array(w.maxRecords);
let count = 0;
let used = 0;
let since = 0;
let carry = null;

function flush() {
  if (count > 0) {
    Atomics.add(ctl, 1, 1);
    const out = bytes.slice(0, used);
    const lens = sizes.slice(0, count);
    parentPort.postMessage({ type: 'batch', count, bytes: out, sizes: lens }, [out.buffer, lens.buffer]);
    count = 0;
    used = 0;
  }
  if (carry) {
    // A sample that did not fit starts the next batch (alone, when it is larger than a batch).
    if (carry.length > bytes.length) bytes = new Uint8Array(carry.length);
    else if (bytes.length > w.maxBytes) bytes = new Uint8Array(w.maxBytes);
    bytes.set(carry, 0);
    sizes[0] = carry.length;
    count = 1;
    used = carry.length;
    since = Date.now();
    carry = null;
  }
}

const cb = koffi.register((_ctx, data, size) => {
  const n = Number(size);
  const sample = new Uint8Array(koffi.view(data, n));
  if (used + n > bytes.length) {
    carry = sample.slice();
    return FULL;
  }
  if (count === 0) since = Date.now();
  bytes.set(sample, used);
  sizes[count++] = n;
  used += n;
  return count >= w.maxRecords ? FULL : 0;
}, koffi.pointer(sampleFn));

const rb = ringNew(w.fd, cb, null, null);
if (!rb) {
  parentPort.postMessage({ type: 'error', errno: koffi.errno() });
} else {
  parentPort.postMessage({ type: 'ready' });
  let idle = true;
  let failed = 0;
  while (Atomics.load(ctl, 0) === 0) {
    const inFlight = Atomics.load(ctl, 1);
    if (inFlight >= w.maxInFlight) {
      Atomics.wait(ctl, 1, inFlight, w.pollMs);
      continue;
    }
    // Poll (epoll) only when the ring was found empty; otherwise consume what is there without a syscall wait.
    const rc = idle ? ringPoll(rb, count > 0 ? 0 : w.pollMs) : ringConsume(rb);
    if (rc === FULL) {
      flush();
      idle = false;
      continue;
    }
    if (rc < 0 && -rc !== EINTR) {
      failed = rc;
      break;
    }
    idle = rc <= 0;
    if (idle || Date.now() - since >= w.flushMs) flush();
  }
  flush();
  flush(); // a carried sample became a batch of its own
  ringFree(rb);
  if (failed) parentPort.postMessage({ type: 'error', errno: -failed });
}
koffi.unregister(cb);
parentPort.postMessage({ type: 'done' });
`;
