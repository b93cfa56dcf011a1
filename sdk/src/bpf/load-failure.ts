// Turns a failed bpf_object__load into an error that carries its reason: libbpf's warnings and the verifier log.
import { BpfError, NotSupportedError, VerifierError } from '../errors.js';
import { errnoName } from './internal/fd.js';
import { libbpfStrerror, type NativeMemory } from './internal/libbpf.js';

/** The bound on what an error keeps of a step's warnings: the last lines, at most this many and bytes. */
export const WARNING_LINES = 30;
export const WARNING_BYTES = 4096;
// The message repeats only the reason; the full warnings stay on the error.
const MESSAGE_WARNINGS = 3;
const ENOSPC = 28;

export interface ProgramLog {
  name: string;
  type: string;
  buf: NativeMemory;
}

export interface LoadFailure {
  error: Error;
  retryWithBiggerLog: boolean;
}

/** The last lines of `messages` (each may hold several), at most `maxLines` lines and `maxBytes` bytes. */
export function boundedTail(
  messages: readonly string[],
  maxLines = WARNING_LINES,
  maxBytes = WARNING_BYTES,
): string[] {
  const lines = messages.flatMap((m) => m.split('\n')).filter((l) => l.trim() !== '');
  const out: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && out.length < maxLines; i--) {
    const line = lines[i] as string;
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > maxBytes) break;
    out.unshift(line);
  }
  return out;
}

/** Warnings that say why, without libbpf's prefix and its closing "failed to load object" lines. */
export function reasons(warnings: readonly string[]): string[] {
  const said = warnings
    .flatMap((w) => w.split('\n'))
    .map((l) => l.replace(/^libbpf: /, '').trim())
    .filter(
      (l) => l !== '' && !/^failed to load object\b/.test(l) && !/^-- (BEGIN|END) PROG LOAD LOG --/.test(l),
    );
  return [...new Set(said)];
}

export function loadFailure(where: string, rc: number, logs: ProgramLog[], said: string[]): LoadFailure {
  const warnings = boundedTail(said);
  const culprit = logs.find((l) => l.buf.bytes()[0] !== 0);
  if (-rc === ENOSPC && culprit) return { error: new Error('log too small'), retryWithBiggerLog: true };
  const tracing = logs.find((l) => ['tracing', 'lsm', 'ext'].includes(l.type));
  if (tracing && [1, 95, 524].includes(-rc)) {
    return {
      error: new NotSupportedError(
        `LOAD_${errnoName(rc)}`,
        `${where}: program ${tracing.name}: the kernel refuses ${tracing.type} programs here (${errnoName(rc)}: fentry/fexit/LSM need BTF trampolines this kernel does not allow)`,
        { warnings },
      ),
      retryWithBiggerLog: false,
    };
  }
  if (culprit) {
    const log = readLog(culprit.buf);
    return {
      error: new VerifierError(
        culprit.name,
        `${where}: program ${culprit.name}: verifier: ${summarize(log)}`,
        log,
        {
          warnings,
        },
      ),
      retryWithBiggerLog: false,
    };
  }
  const why = reasons(said).slice(0, MESSAGE_WARNINGS).join('; ');
  const detail = `${errnoName(rc)} (${libbpfStrerror(rc)})${why ? `: libbpf: ${why}` : ''}`;
  return {
    error: new BpfError(`LOAD_${errnoName(rc)}`, `${where}: ${detail}`, { warnings }),
    retryWithBiggerLog: false,
  };
}

function readLog(buf: NativeMemory): string {
  const bytes = buf.bytes();
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
}

/** The verifier's reason: the last line before its "processed N insns" statistics. */
export function summarize(log: string): string {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const stats = lines.findIndex((l) => l.startsWith('processed '));
  const candidates = stats > 0 ? lines.slice(0, stats) : lines;
  return candidates.at(-1) ?? 'rejected with an empty log';
}
