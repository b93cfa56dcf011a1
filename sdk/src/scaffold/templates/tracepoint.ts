// init template: a tracepoint program that counts process executions.
import { fileHeader, type ProgramTemplate } from '../program-template.js';

export const tracepointTemplate: ProgramTemplate = {
  id: 'tracepoint',
  summary: 'counts process executions (tracepoint sched/sched_process_exec)',
  source: (n) => `${fileHeader('Counts process executions from the sched_process_exec tracepoint.')}
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} execs SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int ${n.cName}(struct trace_event_raw_sched_process_exec *ctx)
{
  __u32 slot = 0;
  __u64 *c = bpf_map_lookup_elem(&execs, &slot);

  if (c)
    (*c)++;
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
    },
    requires: {
      programTypes: ['tracepoint'],
      mapTypes: ['percpu_array'],
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
