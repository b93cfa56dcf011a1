// One logger for the daemons (agent and edge): JSON lines for journald and log shippers, or a readable line on a
// terminal; ids and reasons always as fields, never folded into the message.

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface LoggerOptions {
  debug?: boolean;
  clock?: () => Date;
}

type Format = (time: Date, level: string, message: string, fields: LogFields) => string;

const json: Format = (time, level, message, fields) =>
  `${JSON.stringify({ time: time.toISOString(), level, message, ...fields })}\n`;

/** `12:04:05.123 WARN  program failed  deployment=fw reason=VERIFIER_REJECTED detail="R1 …"` */
const text: Format = (time, level, message, fields) => {
  const pairs = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return `${k}=${/^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)}`;
    });
  return `${time.toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${message}${pairs.length ? `  ${pairs.join(' ')}` : ''}\n`;
};

function build(format: Format, write: (line: string) => void, o: LoggerOptions): Logger {
  const clock = o.clock ?? (() => new Date());
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      write(format(clock(), level, message, fields));
  return {
    debug: o.debug ? log('debug') : () => {},
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
}

/** One JSON object per line. */
export function createJsonLogger(write: (line: string) => void, o: LoggerOptions = {}): Logger {
  return build(json, write, o);
}

/** One readable line per entry, fields as key=value. */
export function createTextLogger(write: (line: string) => void, o: LoggerOptions = {}): Logger {
  return build(text, write, o);
}

/** Readable on a terminal, JSON lines anywhere else (a unit's journal, a pipe); `BPFLEET_LOG_FORMAT` decides when set. */
export function createStderrLogger(o: LoggerOptions = {}, env = process.env): Logger {
  const write = (line: string) => void process.stderr.write(line);
  const format = env.BPFLEET_LOG_FORMAT ?? (process.stderr.isTTY ? 'text' : 'json');
  return format === 'text' ? createTextLogger(write, o) : createJsonLogger(write, o);
}
