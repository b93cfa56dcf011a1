// Packets lost while the channel moves to new versions: pings every 2 ms from the peer namespace through the
// XDP counter on the device's wan interface, each upgrade swapped into the running link.
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyTimed, attached, device, packets, waitFor } from './fleet-wait.mjs';
import { signedCount } from './packages.mjs';

const ID = 'count';
const INTERVAL_S = 0.002;

/**
 * A ping that prints every reply. Stopped just after a reply arrives (the next request is 2 ms away), so no
 * request is still in flight when it sums up: every missing reply is a lost packet, not a cut-off one.
 */
function startPing(ctx) {
  const p = spawn('nsenter', [
    `--net=/run/netns/${ctx.peerNs}`,
    'ping',
    '-n',
    '-i',
    String(INTERVAL_S),
    '-W',
    '1',
    ctx.wanAddr,
  ]);
  ctx.cleanup.push('stop the ping', () => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  let out = '';
  let onReply = () => {};
  p.stdout.on('data', (d) => {
    const text = d.toString();
    out += text;
    if (text.includes('icmp_seq=')) onReply();
  });
  const exited = new Promise((resolve) => p.once('exit', resolve));
  return {
    async stop() {
      await new Promise((resolve) => {
        onReply = resolve;
      });
      // nsenter execs ping in place: the pid is ping's own.
      p.kill('SIGINT');
      await exited;
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      if (!m) throw new Error(`ping ${ctx.wanAddr}: no summary (${out.slice(-300).trim() || 'no output'})`);
      return { sent: Number(m[1]), received: Number(m[2]) };
    },
  };
}

/** The id of the XDP program on the device's wan interface, as the kernel reports it (null when none). */
function xdpProgramId(ctx) {
  const out = execFileSync('ip', ['-j', '-n', ctx.deviceNs, 'link', 'show', 'dev', ctx.wan], {
    encoding: 'utf8',
  });
  return JSON.parse(out)[0]?.xdp?.prog?.id ?? null;
}

/** Waits for a telemetry sample newer than `after` (the counter as of a quiet moment). */
async function counterAfter(ctx, after, what, check = () => true) {
  const d = await waitFor(
    ctx.fleet,
    ctx.deviceId,
    what,
    (d) => {
      const c = packets(d, ID);
      return c.time !== undefined && c.time > after && c.value !== undefined && check(c.value);
    },
    10_000,
  );
  return packets(d, ID);
}

/** acme/count 2.0.0 on `stable`, then `upgrades` moves of the channel while pings flow. */
export async function upgradeUnderLoad(ctx, countObject, upgrades, say) {
  await ctx.publish(await signedCount('2.0.0', 200, countObject, ctx.publisherKey), 'stable');
  const wanted = [{ id: ID, package: 'acme/count', channel: 'stable', attach: { interface: ctx.wan } }];
  await applyTimed(ctx, wanted, '2.0.0 ATTACHED', (d) => attached(d, ID, '2.0.0'));
  // The device's report is not the judge: the kernel must show a new program on wan after every upgrade.
  const programIds = [xdpProgramId(ctx)];
  if (programIds[0] === null) throw new Error(`upgrade: no XDP program on ${ctx.wan} after 2.0.0 ATTACHED`);
  const quiet = new Date().toISOString();
  const before = await counterAfter(ctx, quiet, 'a telemetry sample of 2.0.0');
  const ping = startPing(ctx);
  const versions = [];
  let result;
  try {
    await sleep(300);
    for (let k = 1; k <= upgrades; k++) {
      const version = `2.${k}.0`;
      await ctx.publish(await signedCount(version, 200 + k, countObject, ctx.publisherKey), 'stable');
      await waitFor(ctx.fleet, ctx.deviceId, `${version} ATTACHED`, (d) => attached(d, ID, version), 20_000);
      const id = xdpProgramId(ctx);
      if (id === null || programIds.includes(id))
        throw new Error(
          `upgrade to ${version}: reported ATTACHED, but the kernel shows program ${id} on ${ctx.wan} (before: ${programIds.join(', ')}): no swap happened`,
        );
      programIds.push(id);
      versions.push(version);
      say(`  channel stable moved to ${version}: ATTACHED, program ${id} on ${ctx.wan} in the kernel`);
      await sleep(300);
    }
  } finally {
    result = await ping.stop();
  }
  const stopped = new Date().toISOString();
  const expected = before.value + result.sent;
  // The counter should reach before + sent; if it never does, the last value seen says by how much it fell short.
  const after = await counterAfter(ctx, stopped, `counter at ${expected}`, (v) => v >= expected).catch(
    async () => packets(await device(ctx.fleet, ctx.deviceId), ID),
  );
  return {
    sent: result.sent,
    received: result.received,
    lost: result.sent - result.received,
    counted: (after.value ?? before.value) - before.value,
    versions,
    programIds,
  };
}
