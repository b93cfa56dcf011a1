// init template: a tracepoint program that counts process executions and keeps a log2 histogram of the gaps.
import { fileHeader, type ProgramTemplate } from '../program-template.js';

export const tracepointTemplate: ProgramTemplate = {
  id: 'tracepoint',
  summary:
    'counts process executions and histograms the time between them (tracepoint sched/sched_process_exec)',
  source: (
    n,
  ) => `${fileHeader('Counts process executions and the time between them (sched_process_exec tracepoint).')}
#define GAP_SLOTS 26

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} execs SEC(".maps");

/* A bcc-style log2 histogram: slot n counts gaps of [2^(n-1), 2^n - 1] microseconds, the last slot the rest. */
struct ${n.cName}_hist {
  __u32 slots[GAP_SLOTS];
  __u64 sum_us;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ${n.cName}_hist);
} gap_hist SEC(".maps");

/* When the last exec happened (a .bss global: no map needed for one value). */
__u64 last_exec_ns = 0;

static __always_inline __u32 log2_slot(__u64 v)
{
  __u32 n = 0;

  for (int i = 0; i < GAP_SLOTS - 1 && v; i++) {
    v >>= 1;
    n++;
  }
  return n;
}

SEC("tracepoint/sched/sched_process_exec")
int ${n.cName}(struct trace_event_raw_sched_process_exec *ctx)
{
  __u32 zero = 0;
  __u64 now = bpf_ktime_get_ns();
  __u64 prev = last_exec_ns;
  __u64 *c = bpf_map_lookup_elem(&execs, &zero);
  struct ${n.cName}_hist *h;
  __u64 gap_us;

  if (c)
    (*c)++;
  /* Racy across CPUs (two execs at once may both read the same prev): good enough for a histogram. */
  last_exec_ns = now;
  /* The first exec seen has no gap to measure. */
  if (!prev || now < prev)
    return 0;
  gap_us = (now - prev) / 1000;
  h = bpf_map_lookup_elem(&gap_hist, &zero);
  if (h) {
    __sync_fetch_and_add(&h->slots[log2_slot(gap_us)], 1);
    __sync_fetch_and_add(&h->sum_us, gap_us);
  }
  return 0;
}
`,
  manifest: (n) => ({
    programs: [{ name: n.cName }],
    maps: {
      execs: {
        persist: true,
        layout: { key: 'u32', value: 'u64' },
        metrics: [
          { name: `${n.cName}_execs_total`, type: 'counter', help: 'Processes executed', perCpu: 'sum' },
        ],
        description: 'Process executions',
      },
      gap_hist: {
        layout: {
          key: 'u32',
          value: { slots: { type: 'array', of: 'u32', length: 26 }, sum_us: 'u64' },
        },
        metrics: [
          {
            name: `${n.cName}_exec_gap_seconds`,
            type: 'histogram',
            help: 'Time between two process executions',
            value: 'slots',
            sum: 'sum_us',
            buckets: { kind: 'log2' },
            scale: 1e-6,
          },
        ],
        description: 'Gaps between executions, a log2 histogram in microseconds',
      },
    },
    globals: {
      vars: { last_exec_ns: 'u64' },
      metrics: [
        {
          name: `${n.cName}_last_exec_timestamp_seconds`,
          type: 'gauge',
          help: 'When the last process was executed (bpf_ktime_get_ns: since boot)',
          value: 'last_exec_ns',
          scale: 1e-9,
        },
      ],
    },
    requires: {
      programTypes: ['tracepoint'],
      mapTypes: ['percpu_array', 'array'],
      capabilities: ['CAP_BPF', 'CAP_PERFMON'],
    },
  }),
  tests: () => ({
    tests: [
      {
        name: 'counts processes the test executes',
        kind: 'traffic',
        traffic: { exec: { count: 3 } },
        expect: { maps: { execs: [{ key: 0, value: { min: 3 } }] } },
      },
    ],
  }),
};
