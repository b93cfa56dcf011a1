// Restarts the device's agent on the same data with the shipped default intervals (telemetry 30 s, reconcile
// 60 s): the programs stay attached through their pins, and the new process adopts them.
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { spawnLogged } = await import(join(root, 'e2e', 'dist', 'quickstart', 'child-process.js'));
const { AGENT_BIN, AGENT_MAIN } = await import(join(root, 'e2e', 'dist', 'quickstart', 'workspace-paths.js'));

const ADOPTED = 'adopted pinned deployments';
const adoptions = (logFile) => readFileSync(logFile, 'utf8').split(ADOPTED).length - 1;

/** `overrides` are set in the config after the defaults are restored (e.g. a longer drift check interval). */
export async function restartWithDefaults(ctx, env, overrides = {}) {
  const logFile = join(env.paths.root, 'agent.log');
  const before = adoptions(logFile);
  await env.agent.process.stop();
  const config = parse(await readFile(env.agent.configPath, 'utf8'));
  delete config.telemetryIntervalSeconds;
  delete config.reconcileIntervalSeconds;
  delete config.driftCheckIntervalSeconds;
  Object.assign(config, overrides);
  await writeFile(env.agent.configPath, stringify(config), { mode: 0o600 });
  const proc = spawnLogged({
    name: 'bpfleet-agent',
    command: 'nsenter',
    // The shipped launcher (it execs node with the daemon's flags), so the idle figures are what ships.
    args: [`--net=/run/netns/${ctx.deviceNs}`, AGENT_BIN, '--config', env.agent.configPath],
    logFile,
    env: { BPFLEET_NODE: process.execPath },
  });
  await env.pids.add(proc.pid, AGENT_MAIN);
  ctx.cleanup.push('stop the restarted bpfleet-agent', async () => {
    await proc.stop();
  });
  const deadline = Date.now() + 20_000;
  while (adoptions(logFile) <= before) {
    if (!proc.isRunning()) throw new Error(`the restarted agent exited: see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`the restarted agent adopted nothing in 20 s: see ${logFile}`);
    await sleep(100);
  }
  return proc;
}
