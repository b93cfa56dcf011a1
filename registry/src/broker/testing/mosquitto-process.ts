// Starts a real mosquitto for tests on a free loopback port, with bpfleet's dynamic-security config (or ACL files).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@bpfleet/sdk/test-kit';
import type { BrokerIdentity } from '../access-policy.js';
import { usernameOf } from '../credentials.js';
import { mosquittoPasswordLine, renderMosquittoAcl, renderMosquittoConf } from '../mosquitto-config.js';
import { renderDynsecConfig } from '../mosquitto-dynsec.js';

export interface MosquittoProcess {
  url: string;
  port: number;
  /** The certificate listener (with `tls`): `mqtts://127.0.0.1:<port>`. */
  tlsUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

export interface MosquittoTestOptions {
  /** The dynamic security plugin (default), or the ACL and password files. */
  auth?: 'dynsec' | 'password-file';
  maxPacketBytes?: number;
  /** A device-certificate listener too: the device CA and the broker's certificate and key (PEM). */
  tls?: { ca: string; cert: string; key: string };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`mosquitto did not listen on ${port}: ${stderr()}`);
}

export async function startMosquitto(
  fleet: string,
  credentials: ReadonlyArray<{ identity: BrokerIdentity; secret: string }>,
  options: MosquittoTestOptions = {},
): Promise<MosquittoProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-mosquitto-'));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const pem = async (name: string, text: string) => {
    await writeFile(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const tls =
    options.tls && tlsPort
      ? {
          port: tlsPort,
          caFile: await pem('device-ca.crt', options.tls.ca),
          certFile: await pem('server.crt', options.tls.cert),
          keyFile: await pem('server.key', options.tls.key),
        }
      : undefined;
  const common = { port, user: userInfo().username, maxPacketBytes: options.maxPacketBytes, tls };
  let conf: string;
  if ((options.auth ?? 'dynsec') === 'dynsec') {
    const dynsecConfigFile = join(dir, 'dynamic-security.json');
    await writeFile(dynsecConfigFile, renderDynsecConfig(fleet, credentials), { mode: 0o600 });
    conf = renderMosquittoConf({ ...common, dynsecConfigFile });
  } else {
    const aclFile = join(dir, 'acl');
    const passwordFile = join(dir, 'passwd');
    await writeFile(
      aclFile,
      renderMosquittoAcl(
        fleet,
        credentials.map((c) => c.identity),
      ),
    );
    const passwords = credentials.map((c) => mosquittoPasswordLine(usernameOf(c.identity), c.secret));
    await writeFile(passwordFile, `${passwords.join('\n')}\n`, { mode: 0o600 });
    conf = renderMosquittoConf({ ...common, aclFile, passwordFile });
  }
  const confFile = join(dir, 'mosquitto.conf');
  await writeFile(confFile, conf);
  const child = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(port, child, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    ...(tlsPort && { tlsUrl: `mqtts://127.0.0.1:${tlsPort}` }),
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
