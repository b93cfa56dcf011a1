// A throwaway Ceph radosgw for tests: one monitor, one memstore OSD, radosgw on a free loopback port, stopped by pid.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '@bpfleet/sdk/test-kit';

export interface RadosgwServer {
  /** The S3 endpoint, e.g. http://127.0.0.1:PORT. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Milliseconds from the monitor's mkfs to the first S3 answer. */
  startMs: number;
  /** The pids of the monitor, the OSD and radosgw (for RSS measurements). */
  pids: number[];
  /** The `--blobs` URL of a bucket (created on first use by the store). */
  blobsUrl(bucket: string): string;
  stop(): Promise<void>;
}

const run = promisify(execFile);

function cephConf(dir: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${randomUUID()}
mon host = [v2:127.0.0.1:${monPort}]
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
# radosgw asks the monitor for "secure" mode by default, which auth none cannot give.
ms mon client mode = crc
keyring = /dev/null
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd data = ${dir}/osd$id
mon data = ${dir}/mon
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
rgw data = ${dir}/rgw
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
`;
}

async function waitHttp(url: string, procs: ChildProcess[], dir: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const dead = procs.find((p) => p.exitCode !== null);
    if (dead)
      throw new Error(
        `radosgw for tests: ${dead.spawnfile} exited with ${dead.exitCode} (logs in ${dir}/log)`,
      );
    const ok = await fetch(url).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`radosgw for tests: no S3 answer on ${url} within 90 s`);
}

/** Starts mon + OSD + radosgw and an S3 user; `stop()` (also run on process exit) kills them and removes the dir. */
export async function startRadosgw(tag = 'pgs'): Promise<RadosgwServer> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `bpfleet-${tag}-rgw-`));
  for (const sub of ['run', 'log', 'mon', 'osd0']) mkdirSync(join(dir, sub));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'ceph.conf');
  writeFileSync(conf, cephConf(dir, monPort, rgwPort));
  const procs: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const child = spawn(cmd, ['-f', '-c', conf, ...args], { stdio: 'ignore' });
    procs.push(child);
    return child;
  };
  const killAll = () => {
    for (const p of procs.reverse()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  try {
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dir, 'monmap')]);
    await run('ceph-mon', ['--mkfs', '-i', 'a', '-c', conf, '--monmap', join(dir, 'monmap')]);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    await run('ceph', ['-c', conf, '--connect-timeout', '30', 'osd', 'new', osdUuid]);
    await run('ceph-osd', ['-i', '0', '--mkfs', '-c', conf, '--osd-uuid', osdUuid]);
    daemon('ceph-osd', ['-i', '0']);
    daemon('radosgw', ['-n', 'client.rgw.a']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitHttp(endpoint, procs, dir);
    const accessKeyId = `BPFLEET${randomBytes(6).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(24).toString('base64url');
    await run('radosgw-admin', [
      ...['-c', conf, '-n', 'client.admin', 'user', 'create', '--uid=bpfleet', '--display-name=bpfleet'],
      `--access-key=${accessKeyId}`,
      `--secret-key=${secretAccessKey}`,
    ]);
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      startMs: Date.now() - started,
      pids: procs.map((p) => p.pid!),
      blobsUrl: (bucket) => `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`,
      async stop() {
        process.removeListener('exit', killAll);
        for (const p of [...procs].reverse()) {
          if (p.exitCode !== null || p.signalCode !== null) continue;
          const exited = new Promise((resolve) => p.once('exit', resolve));
          p.kill('SIGTERM');
          const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    process.removeListener('exit', killAll);
    killAll();
    throw err;
  }
}
