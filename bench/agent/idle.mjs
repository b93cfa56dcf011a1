// The agent idle with 10 tcx programs attached (10 deployments of one policy, stacked on one interface): RSS and
// CPU from /proc, next to an idle `node` process measured over the same window.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyTimed, attached, packets, waitFor } from './fleet-wait.mjs';
import { signedTcxCount } from './packages.mjs';

export const DEPLOYMENTS = 10;
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** A size line of /proc/<pid>/status in MB (VmRSS: resident; RssFile: file pages; RssAnon: the process's own). */
function statusMb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status: no ${field}`);
  return Number(m[1]) / 1024;
}

/** Resident set size in MB (VmRSS of /proc/<pid>/status). */
export const rssMb = (pid) => statusMb(pid, 'VmRSS');

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat, after the command). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** 10 deployments of acme/tcx-count on the wan interface; resolves once the device reports all ATTACHED. */
export async function attachTen(ctx, tcxObject) {
  await ctx.publish(await signedTcxCount('1.0.0', tcxObject, ctx.publisherKey), 'stable');
  const ids = Array.from({ length: DEPLOYMENTS }, (_, i) => `tcx-${i}`);
  const programs = ids.map((id) => ({
    id,
    package: 'acme/tcx-count',
    channel: 'stable',
    attach: { interface: ctx.wan, direction: 'ingress' },
  }));
  const ms = await applyTimed(
    ctx,
    programs,
    `${DEPLOYMENTS} tcx deployments ATTACHED`,
    (d) => d.programs.length === DEPLOYMENTS && ids.every((id) => attached(d, id)),
    60_000,
  );
  // bpftool here predates tcx in `net show`: the kernel's proof is every one of the 10 counters rising.
  const since = new Date().toISOString();
  const pinged = spawnSync('nsenter', [
    `--net=/run/netns/${ctx.peerNs}`,
    'ping',
    '-q',
    '-c',
    '5',
    '-i',
    '0.01',
    ctx.wanAddr,
  ]);
  if (pinged.status !== 0) throw new Error(`ping ${ctx.wanAddr}: ${pinged.stderr}`);
  await waitFor(ctx.fleet, ctx.deviceId, `all ${DEPLOYMENTS} tcx counters counting`, (d) => {
    const counted = ids.filter((id) => (packets(d, id).value ?? 0) >= 5);
    return d.telemetry?.time > since && counted.length === DEPLOYMENTS;
  });
  return ms;
}

/** An idle node process (the baseline), started once and stopped by the cleanup. */
export function startIdleNode(ctx) {
  const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  ctx.cleanup.push('stop the idle node baseline', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child.pid;
}

/** CPU (% of one core) and RSS (MB, at the end) of the agent and of the baseline over `seconds`. */
export async function idleWindow(agentPid, baselinePid, seconds) {
  const t0 = performance.now();
  const a0 = cpuTicks(agentPid);
  const rssStart = rssMb(agentPid);
  const b0 = cpuTicks(baselinePid);
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  const percent = (ticks) => (ticks / TICKS_PER_SECOND / elapsed) * 100;
  return {
    seconds: elapsed,
    agent: {
      cpu: percent(cpuTicks(agentPid) - a0),
      rss: rssMb(agentPid),
      rssStart,
      rssFile: statusMb(agentPid, 'RssFile'),
      rssAnon: statusMb(agentPid, 'RssAnon'),
    },
    baseline: {
      cpu: percent(cpuTicks(baselinePid) - b0),
      rss: rssMb(baselinePid),
      rssFile: statusMb(baselinePid, 'RssFile'),
    },
  };
}
