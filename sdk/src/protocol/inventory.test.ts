import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError, parseReportedState } from './messages.js';

const inventory = {
  arch: 'x86',
  endianness: 'little',
  kernel: { release: '6.18.0', version: '#1 SMP PREEMPT_DYNAMIC', buildId: '24013818' },
  btf: 'kernel',
  libbpf: '1.1',
  capabilities: ['CAP_BPF'],
  programTypes: { xdp: true, kprobe: 'no kprobe support' },
  attachTypes: { cgroup_inet_ingress: true },
  agentVersion: '0.1.0',
  memoryBytes: 8_000_000_000,
};
const reported = { device: 'd', fleet: 'f', time: 't', policies: {}, programs: [] };

test('the inventory rides in the reported state, parsed strictly', () => {
  const parsed = parseReportedState(JSON.stringify({ ...reported, inventory }));
  assert.deepEqual(parsed.inventory, inventory);
  assert.equal(parseReportedState(JSON.stringify(reported)).inventory, undefined, 'older agents send none');
  const bad: Array<[unknown, RegExp]> = [
    [{ ...inventory, extra: 1 }, /inventory\.extra: expected no such field/],
    [{ ...inventory, btf: 'maybe' }, /inventory\.btf: expected kernel, external, none/],
    [{ ...inventory, kernel: { release: '6.18' } }, /inventory\.kernel\.version/],
    [{ ...inventory, programTypes: { xdp: false } }, /inventory\.programTypes\.xdp/],
    [{ ...inventory, capabilities: ['bpf'] }, /inventory\.capabilities/],
    [{ ...inventory, memoryBytes: -1 }, /inventory\.memoryBytes/],
  ];
  for (const [value, message] of bad) {
    assert.throws(
      () => parseReportedState(JSON.stringify({ ...reported, inventory: value })),
      (e: unknown) => e instanceof ProtocolError && e.code === 'MESSAGE_INVALID' && message.test(e.message),
      String(message),
    );
  }
});
