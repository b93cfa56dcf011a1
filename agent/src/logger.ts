// The agent's logger: libraries log through this interface; main.ts picks JSON lines on stderr.

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One JSON object per line, for journald and log shippers. */
export function createJsonLogger(write: (line: string) => void, debug = false): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  };
  return {
    debug: debug ? log('debug') : () => {},
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
}
