// The build runs libbpf's open step on each object: a section libbpf cannot load fails the build in libbpf's words.
import { endianness } from 'node:os';
import { openReport, programLines } from '../bpf/open-report.js';
import { NotSupportedError } from '../errors.js';
import type { BuildIssue } from './build-issue.js';

/**
 * Issues for an object libbpf refuses to open, and for programs whose section libbpf does not recognise:
 * errors for programs that load, warnings for `load: false` ones (never loaded, so libbpf never has to).
 */
export function libbpfOpenIssues(
  bytes: Uint8Array,
  what: string,
  notLoaded: ReadonlySet<string>,
): BuildIssue[] {
  // libbpf opens only objects of the host's byte order; other ones are checked where they run.
  const objectLittle = bytes[5] === 1;
  if (objectLittle !== (endianness() === 'LE')) {
    return [
      {
        severity: 'warning',
        code: 'LIBBPF_OPEN_SKIPPED',
        message: `${what}: not opened with libbpf: its byte order differs from this host's`,
      },
    ];
  }
  let report: ReturnType<typeof openReport>;
  try {
    report = openReport(bytes);
  } catch (err) {
    if (!(err instanceof NotSupportedError)) throw err;
    return [
      {
        severity: 'warning',
        code: 'LIBBPF_OPEN_SKIPPED',
        message: `${what}: not opened with libbpf: ${err.message}`,
      },
    ];
  }
  if (report.error || !report.spec) {
    const warned = report.error?.warnings.map((w) => w.replace(/^libbpf: /, '')) ?? [];
    return [
      {
        severity: 'error',
        code: 'LIBBPF_OPEN_FAILED',
        message: `${what}: libbpf cannot open it: ${[report.error?.message, ...warned].filter(Boolean).join('; ')}`,
      },
    ];
  }
  const issues: BuildIssue[] = [];
  for (const program of report.spec.programs) {
    if (program.type !== 'unspec') continue;
    const said =
      programLines(report, program.name).join('; ') ||
      `prog '${program.name}': no program type for section '${program.section}'`;
    const loads = !notLoaded.has(program.name);
    issues.push({
      severity: loads ? 'error' : 'warning',
      code: 'SECTION_UNKNOWN',
      message: `${what}: libbpf: ${said}${loads ? ' (libbpf cannot load this program)' : ' (load: false, never loaded)'}`,
    });
  }
  return issues;
}
