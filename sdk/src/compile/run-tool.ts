// Runs an external tool (clang, llvm-strip, bpftool) and returns its exit code and output unchanged.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The one way the build reaches external tools, so tests and callers can substitute it. */
export type RunTool = (command: string, args: string[], options?: RunToolOptions) => Promise<ToolResult>;

export interface RunToolOptions {
  cwd?: string;
  /** Write stdout to this file instead of returning it (vmlinux.h is megabytes). */
  stdoutFile?: string;
}

export const runTool: RunTool = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let fileDone: Promise<void> = Promise.resolve();
    if (options.stdoutFile) {
      const file = createWriteStream(options.stdoutFile);
      child.stdout.pipe(file);
      fileDone = new Promise((res, rej) => {
        file.on('finish', () => res());
        file.on('error', rej);
      });
    } else {
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    }
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      fileDone.then(
        () =>
          resolve({
            code: code ?? (signal ? 128 : 1),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          }),
        reject,
      );
    });
  });
