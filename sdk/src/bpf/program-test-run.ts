// BPF_PROG_TEST_RUN on a loaded program: its verdict, its output packet and the kernel's ns per run.
import { BpfError } from '../errors.js';
import { errnoName } from './internal/fd.js';
import { progTestRun } from './internal/libbpf.js';
import type { Program } from './program.js';

export interface TestRunOptions {
  /** Runs in one call; the kernel averages the duration over them. */
  repeat?: number;
  /** Room for the output packet; programs that grow packets need more than the input (default: input + 256). */
  dataOutSize?: number;
}

export interface TestRunResult {
  /** The program's return value as a signed 32-bit number (TCX_NEXT is -1). */
  retval: number;
  /** Average ns per run as the kernel measured it. */
  durationNs: number;
  dataOut: Uint8Array;
}

export function testRun(program: Program, data: Uint8Array, options: TestRunOptions = {}): TestRunResult {
  const repeat = options.repeat ?? 1;
  const out = progTestRun(program.fd, data, options.dataOutSize ?? data.length + 256, repeat);
  if (out.rc < 0) {
    const name = errnoName(out.errno);
    // 524 is the kernel-internal ENOTSUPP: the program type has no test run.
    const unsupported = out.errno === 524 || name === 'EOPNOTSUPP';
    throw new BpfError(
      unsupported ? 'TEST_RUN_NOT_SUPPORTED' : `TEST_RUN_${/^E[A-Z]+$/.test(name) ? name : 'FAILED'}`,
      `test run ${program.name} (${program.spec.section}): ${unsupported ? 'this program type has no BPF_PROG_TEST_RUN' : name}`,
    );
  }
  return { retval: out.retval | 0, durationNs: out.duration, dataOut: out.dataOut };
}
