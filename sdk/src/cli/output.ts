// How commands speak: a result as text or JSON on stdout, progress on a TTY's stderr, errors with their code.
import { BpfleetError, errorMessage } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface OutputOptions {
  json?: boolean;
}

/** Prints a command's result: `data` as JSON with --json, else the human text. */
export function printResult(options: OutputOptions, data: unknown, human: () => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** A progress line on stderr, only when stderr is a terminal and output is not JSON. */
export function createProgress(options: OutputOptions): (message: string) => void {
  if (options.json || !process.stderr.isTTY) return () => {};
  return (message) => {
    process.stderr.write(`\r\x1b[2K${message}`);
  };
}

export function endProgress(options: OutputOptions): void {
  if (!options.json && process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

export function reportError(err: unknown, json: boolean): void {
  const code = err instanceof BpfleetError ? err.code : 'INTERNAL';
  const message = errorMessage(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  else process.stderr.write(`bpfleet: ${message}${code === 'INTERNAL' ? '' : ` [${code}]`}\n`);
}
