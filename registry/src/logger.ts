// The registry's logger interface and the JSON-lines logger main.ts constructs.
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** One JSON object per line on the given stream (stderr in main.ts). */
export function createJsonLogger(
  write: (line: string) => void,
  clock: () => Date = () => new Date(),
): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => {
    write(`${JSON.stringify({ time: clock().toISOString(), level, message, ...fields })}\n`);
  };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
