// The ring drain's worker thread, as source: it binds libbpf's ring buffer through its own koffi instance.
// A source string rather than a file: the agent ships as one esbuild bundle, and a worker needs code of its own.
// Samples are read in place from the mapped ring while it has some (a libbpf callback per sample costs several
// times more), through libbpf's callback when its poll wakes; either way copied into a batch transferred to the
// main thread. At most `maxInFlight` batches are unacknowledged: past
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

/** Copies one sample into the batch; FULL when the batch must go before another sample fits. */
function store(sample) {
  const n = sample.length;
  if (used + n > bytes.length) {
    carry = sample.slice();
    return FULL;
  }
  if (count === 0) since = Date.now();
  bytes.set(sample, used);
  sizes[count++] = n;
  used += n;
  return count >= w.maxRecords ? FULL : 0;
}

const cb = koffi.register(
  (_ctx, data, size) => store(new Uint8Array(koffi.view(data, Number(size)))),
  koffi.pointer(sampleFn),
);

// The fast path: the ring's pages mapped here as libbpf maps them (consumer page read-write; producer page and
// the twice-mapped data read-only), records read in place, the consumer position advanced by this thread.
// libbpf's poll stays the way to wait (its epoll), and it reads the consumer position afresh on every call.
const libc = koffi.load('libc.so.6');
const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t off)');
const munmap = libc.func('int munmap(void *addr, size_t len)');
const PAGE = libc.func('int getpagesize()')();
const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const MAP_FAILED = 0xffffffffffffffffn;

function mapRing() {
  const size = w.size;
  const cons = mmap(null, PAGE, 3, 1, w.fd, 0);
  if (!cons || koffi.address(cons) === MAP_FAILED) return null;
  const prod = mmap(null, PAGE + 2 * size, 1, 1, w.fd, PAGE);
  if (!prod || koffi.address(prod) === MAP_FAILED) {
    munmap(cons, PAGE);
    return null;
  }
  const pages = koffi.view(prod, PAGE + 2 * size);
  return {
    cons,
    prod,
    size,
    consPos: new BigUint64Array(koffi.view(cons, 8)),
    prodPos: new BigUint64Array(pages, 0, 1),
    data: new Uint8Array(pages, PAGE, 2 * size),
    words: new Int32Array(pages, PAGE, (2 * size) >> 2),
  };
}

/** Reads what the ring holds into the batch: records read, or FULL. */
function readInPlace(r) {
  const start = Atomics.load(r.consPos, 0);
  const avail = Number(Atomics.load(r.prodPos, 0) - start);
  const base = Number(start % BigInt(r.size));
  let adv = 0;
  let n = 0;
  let rc = 0;
  while (adv < avail) {
    const off = (base + adv) % r.size;
    const len = Atomics.load(r.words, off >> 2) >>> 0;
    if (len & BUSY) break; // not committed yet
    const sampleLen = len & ~(BUSY | DISCARD);
    adv += (sampleLen + 8 + 7) & ~7;
    if ((len & DISCARD) === 0) {
      rc = store(r.data.subarray(off + 8, off + 8 + sampleLen));
      n++;
      if (rc === FULL) break;
    }
  }
  if (adv > 0) Atomics.store(r.consPos, 0, start + BigInt(adv));
  return rc === FULL ? FULL : n;
}

const rb = ringNew(w.fd, cb, null, null);
if (!rb) {
  parentPort.postMessage({ type: 'error', errno: koffi.errno() });
} else {
  const ring = mapRing();
  parentPort.postMessage({ type: 'ready', inPlace: ring !== null });
  let idle = true;
  let failed = 0;
  while (Atomics.load(ctl, 0) === 0) {
    const inFlight = Atomics.load(ctl, 1);
    if (inFlight >= w.maxInFlight) {
      Atomics.wait(ctl, 1, inFlight, w.pollMs);
      continue;
    }
    // Poll (epoll) only when the ring was found empty; otherwise consume what is there without a syscall wait.
    // A partial batch waits for more until it is flushMs old: at a low rate the kernel wakes this thread for
    // every record, and one message per record would cost the main thread more than the records themselves.
    const wait = count > 0 ? Math.max(0, Math.min(w.pollMs, w.flushMs - (Date.now() - since))) : w.pollMs;
    const rc = idle ? ringPoll(rb, wait) : ring ? readInPlace(ring) : ringConsume(rb);
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
    if (count > 0 && Date.now() - since >= w.flushMs) flush();
  }
  flush();
  flush(); // a carried sample became a batch of its own
  if (ring) {
    munmap(ring.prod, PAGE + 2 * ring.size);
    munmap(ring.cons, PAGE);
  }
  ringFree(rb);
  if (failed) parentPort.postMessage({ type: 'error', errno: -failed });
}
koffi.unregister(cb);
parentPort.postMessage({ type: 'done' });
`;
