// Policy → ATTACHED on one real device, cold (a version the agent never fetched) and cached (re-applied after
// a detach), next to the floor: open+load+attach of the same object through the SDK loader in one process.
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { applyTimed, attached, program } from './fleet-wait.mjs';
import { signedCount } from './packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ID = 'count';

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * A warm-up round, then `samples` rounds of: publish acme/count@1.0.<i>, apply it (cold), detach it by a policy without it, apply it
 * again (cached), detach. Returns the milliseconds of each kind.
 */
export async function policyToAttached(ctx, countObject, samples, say) {
  const cold = [];
  const cached = [];
  const wanted = (version) => [{ id: ID, package: 'acme/count', version, attach: { interface: ctx.wan } }];
  const detach = () => applyTimed(ctx, [], `${ID} detached`, (d) => !program(d, ID));
  // Round -1 warms the agent up (its first fetch, first load, lazily loaded modules) and is not counted.
  for (let i = -1; i < samples; i++) {
    const version = i < 0 ? '0.0.1' : `1.0.${i}`;
    const pkg = await signedCount(version, i + 2, countObject, ctx.publisherKey);
    await ctx.publish(pkg);
    const coldMs = await applyTimed(ctx, wanted(version), `${version} ATTACHED (cold)`, (d) =>
      attached(d, ID, version),
    );
    await detach();
    const cachedMs = await applyTimed(ctx, wanted(version), `${version} ATTACHED (cached)`, (d) =>
      attached(d, ID, version),
    );
    await detach();
    if (i < 0) continue;
    cold.push(coldMs);
    cached.push(cachedMs);
    say(`  round ${i + 1}/${samples}: cold ${coldMs.toFixed(1)} ms, cached ${cachedMs.toFixed(1)} ms`);
  }
  return { cold, cached };
}

/**
 * The floor, in the device's namespace on an interface of its own: bench/loader/measure.mjs (loadCollection of
 * the bytes + XDP attach, timed in-process), `iterations` times after 3 warm-ups. Returns milliseconds.
 */
export async function loaderFloor(ctx, countObject, iterations) {
  const object = join(ctx.workDir, 'count.bpf.o');
  await writeFile(object, countObject);
  const inNs = (args) => {
    const r = spawnSync('nsenter', [`--net=/run/netns/${ctx.deviceNs}`, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  };
  // Removed with the device namespace.
  inNs(['ip', 'link', 'add', 'bfab0', 'type', 'veth', 'peer', 'name', 'bfab0p']);
  inNs(['ip', 'link', 'set', 'bfab0', 'up']);
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${ctx.deviceNs}`,
      process.execPath,
      join(root, 'bench', 'loader', 'measure.mjs'),
      join(root, 'sdk', 'dist', 'bpf', 'index.js'),
      object,
      'bfab0',
      'bytes',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  ctx.cleanup.push('stop the loader floor', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const once = async () => {
    child.stdin.write('go\n');
    const { value, done } = await lines.next();
    if (done) throw new Error('the loader floor process stopped');
    return Number(value) / 1000;
  };
  for (let i = 0; i < 3; i++) await once();
  const ms = [];
  for (let i = 0; i < iterations; i++) ms.push(await once());
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  return ms;
}
