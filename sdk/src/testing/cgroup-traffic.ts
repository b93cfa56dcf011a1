// Real traffic for tests: a fresh network namespace and cgroup, a process in both, removed afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError } from '../errors.js';

export const CGROUP2 = '/sys/fs/cgroup/unified';

export type Traffic = {
  udp?: { packets: number; size: number };
  tcp?: { connections: number };
  exec?: { count: number };
};

// Run by the child once told to on stdin: UDP datagrams or TCP connections to itself over loopback, or execs.
const CHILD = `
const [mode, a, b] = process.argv.slice(1);
const done = () => process.stdin.destroy();
process.stdin.once('data', () => {
  if (mode === 'exec') {
    for (let i = 0; i < Number(a); i++) require('node:child_process').execFileSync('true');
    done();
  } else if (mode === 'udp') {
    const s = require('node:dgram').createSocket('udp4');
    let got = 0;
    s.on('message', () => { if (++got === Number(a)) { s.close(); done(); } });
    s.bind(0, '127.0.0.1', () => { for (let i = 0; i < Number(a); i++) s.send(Buffer.alloc(Number(b)), s.address().port, '127.0.0.1'); });
  } else {
    const net = require('node:net');
    let open = Number(a);
    const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
      for (let i = 0; i < Number(a); i++) net.connect(server.address().port, '127.0.0.1').on('close', () => { if (--open === 0) { server.close(); done(); } }).resume();
    });
  }
});
`;

export interface TestCgroup {
  cgroup: string;
  netns: string;
  /** Runs the traffic from a process inside the cgroup and the namespace; resolves when it is done. */
  run(traffic: Traffic): Promise<void>;
  close(): void;
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new BpfError('NETNS_FAILED', `ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function createTestCgroup(area: string): TestCgroup {
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const netns = `bf-${area}-${tag}`;
  const cgroup = join(CGROUP2, `bpfleet-test-${tag}`);
  ip(['netns', 'add', netns]);
  try {
    ip(['-n', netns, 'link', 'set', 'lo', 'up']);
    mkdirSync(cgroup);
  } catch (err) {
    spawnSync('ip', ['netns', 'del', netns]);
    throw err;
  }
  return {
    cgroup,
    netns,
    async run(traffic) {
      const args = traffic.udp
        ? ['udp', String(traffic.udp.packets), String(traffic.udp.size)]
        : traffic.exec
          ? ['exec', String(traffic.exec.count)]
          : ['tcp', String(traffic.tcp?.connections ?? 1)];
      const child = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', CHILD, ...args], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      try {
        // nsenter execs node, so this pid is the sender's: into the cgroup before it sends anything.
        await new Promise((resolve, reject) => child.on('spawn', resolve).on('error', reject));
        writeFileSync(join(cgroup, 'cgroup.procs'), String(child.pid));
        child.stdin.write('go\n');
        const code = await exited;
        if (code !== 0)
          throw new BpfError('TRAFFIC_FAILED', `traffic ${args[0]}: the sender failed: ${stderr.trim()}`);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      }
    },
    close() {
      try {
        rmdirSync(cgroup);
      } finally {
        spawnSync('ip', ['netns', 'del', netns]);
      }
    },
  };
}
