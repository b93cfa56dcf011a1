// The coordinator's handle on a side.mjs process in a namespace: start it, send it commands, stop it (by its pid).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const sideScript = join(dirname(fileURLToPath(import.meta.url)), 'side.mjs');

/** Starts side.mjs in netns `ns` (nsenter execs node, so the child's pid is node's) and waits until it is ready. */
export async function startSide(ns, config) {
  const child = spawn('nsenter', [`--net=/run/netns/${ns}`, process.execPath, sideScript], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, VETH_SIDE: JSON.stringify(config) },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what) => {
    const line = await Promise.race([lines.next(), exited.then((e) => ({ exit: e }))]);
    if (line.exit || line.done)
      throw new Error(
        `${config.role} side exited (${JSON.stringify(line.exit ?? {})}) ${what}: ${stderr.trim()}`,
      );
    const reply = JSON.parse(line.value);
    if (reply.error) throw new Error(reply.error);
    return reply;
  };
  const side = {
    pid: child.pid,
    async request(op, args = {}) {
      child.stdin.write(`${JSON.stringify({ op, ...args })}\n`);
      return next(`during ${op}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          await Promise.race([side.request('close'), new Promise((r) => setTimeout(r, 5000))]);
        } catch {}
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    await next('while loading');
  } catch (e) {
    await side.stop();
    throw e;
  }
  return side;
}
