// tp_btf, raw_tp, tracepoint, kprobe and uprobe: attached from the SEC() name by libbpf itself.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { BpfError, NotSupportedError } from '../../errors.js';
import { errnoName } from '../internal/fd.js';
import { perfRouteProblem } from '../internal/feature-probes.js';
import { attachAuto, libbpf, type ProgramHandle, warningMark, warningsSince } from '../internal/libbpf.js';
import { FdLink } from '../link.js';

const TRACEFS = '/sys/kernel/tracing';

/** Mounts tracefs when neither it nor debugfs's tracing dir is there (tracepoints resolve ids through it). */
export function ensureTracefs(mounts = readFileSync('/proc/self/mounts', 'utf8')): void {
  if (mounts.split('\n').some((l) => l.split(' ')[2] === 'tracefs')) return;
  if (existsSync('/sys/kernel/debug/tracing/events')) return;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', TRACEFS], { stdio: 'pipe' });
  } catch (err) {
    throw new NotSupportedError(
      'TRACEFS_MISSING',
      `tracefs is not mounted and mounting it at ${TRACEFS} failed`,
      {
        cause: err,
      },
    );
  }
}

export async function attachTracing(
  name: string,
  prog: ProgramHandle,
  section: string,
  kind: 'tracing' | 'kprobe' | 'uprobe',
): Promise<FdLink> {
  const what = `${section} ${name}`;
  if (section.startsWith('tracepoint/') || section.startsWith('tp/')) ensureTracefs();
  if (kind !== 'tracing') {
    const reason = perfRouteProblem(kind);
    if (reason) throw new NotSupportedError(`${kind.toUpperCase()}_UNSUPPORTED`, `attach ${what}: ${reason}`);
  }
  const mark = warningMark();
  const r = await attachAuto(prog);
  if (r.link) return new FdLink(what, libbpf.linkFd(r.link), r.link);
  const said = warningsSince(mark).at(-1);
  const detail = `${errnoName(r.errno)}${said ? `: libbpf: ${said}` : ''}`;
  if (kind !== 'tracing' || [1, 95, 524].includes(r.errno)) {
    throw new NotSupportedError(
      `ATTACH_${errnoName(r.errno)}`,
      `attach ${what}: not supported here: ${detail}`,
    );
  }
  throw new BpfError(`ATTACH_${errnoName(r.errno)}`, `attach ${what}: ${detail}`);
}
