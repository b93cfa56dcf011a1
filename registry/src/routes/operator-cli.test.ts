// The operator's CLI against a served edge with the fleet on: register, policy apply/show/diff, fleet status, rollouts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RegistryClient } from '@bpfleet/sdk/registry-client';
import { createApp } from '../app.js';
import { type FleetRuntime, startFleetRuntime } from '../fleet/fleet-runtime.js';
import { silentLogger } from '../logger.js';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { buildSignedPackage } from '../testing/signed-package.js';
import { createTestKeys, createTestPublisher } from '../testing/test-keys.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@bpfleet/sdk/errors'))), 'cli', 'main.js');
const run = promisify(execFile);

describe('operator CLI against an edge with its fleet', () => {
  let dir: string;
  let fx: RegistryFixture;
  let runtime: FleetRuntime;
  let served: ServedFixture;

  async function bpfleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [CLI, ...args, '--registry', served.url, '--token', fx.adminToken],
        {
          env: { PATH: process.env.PATH ?? '', XDG_CONFIG_HOME: dir, HOME: dir },
          cwd: dir,
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpfleet-operator-'));
    fx = await createRegistryFixture({ keys: createTestKeys() });
    await run(process.execPath, [CLI, 'keys', 'generate', '--name', 'operator', '--out', dir]);
    runtime = await startFleetRuntime({
      fleet: 'acme',
      dataDir: dir,
      catalog: fx.catalog,
      logger: silentLogger,
      brokerHost: '127.0.0.1',
      brokerPort: 0,
      operatorKeyFiles: [join(dir, 'operator.pub')],
    });
    served = await serveFixture({ ...fx, app: createApp({ ...fx.deps, fleet: runtime.deps }).app });
    const admin = new RegistryClient({ url: served.url, token: fx.adminToken });
    const publisher = createTestPublisher();
    await admin.createNamespace('acme');
    await admin.addPublisherKey('acme', publisher.pair.publicKeyPem);
    const pkg = await buildSignedPackage('acme/xdp-firewall', '1.2.0', publisher.signing);
    const token = (await admin.createToken('acme', 'ci')).token;
    await new RegistryClient({ url: served.url, token }).publish({
      namespace: 'acme',
      name: 'xdp-firewall',
      version: '1.2.0',
      archive: pkg.archive,
      bundle: pkg.bundle,
    });
  });
  after(async () => {
    await served.close();
    await runtime.stop();
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('registers devices, applies a signed policy with serial filled in, shows and diffs it', async () => {
    // The id after --group stays the id (the option is not variadic); groups repeat or take commas.
    const reg = await bpfleet('fleet', 'register', '--group', 'gateways', 'cpe-1', '--json');
    assert.equal(reg.code, 0, reg.stderr);
    assert.deepEqual((JSON.parse(reg.stdout) as { id: string; groups: string[] }).groups, ['gateways']);
    const two = await bpfleet(
      'fleet',
      'register',
      'lab-9',
      '--group',
      'lab,canary',
      '--group',
      'west',
      '--json',
    );
    assert.deepEqual((JSON.parse(two.stdout) as { groups: string[] }).groups, ['lab', 'canary', 'west']);
    const removed = await bpfleet('fleet', 'device', 'remove', 'lab-9');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /device lab-9: removed/);
    const gone = await bpfleet('fleet', 'device', 'lab-9', '--json');
    assert.equal((JSON.parse(gone.stdout) as { error: { code: string } }).error.code, 'DEVICE_NOT_FOUND');
    assert.ok((JSON.parse(reg.stdout) as { broker: { password: string } }).broker.password.length > 20);
    await writeFile(
      join(dir, 'policy.yaml'),
      'target: { group: gateways }\nfleet: acme\nprograms:\n  - id: fw\n    package: acme/xdp-firewall\n    version: "^1.2"\n    attach: { interface: wan0 }\n    config: { max_pps: 5000 }\n',
    );
    const diff = await bpfleet('policy', 'diff', '-f', 'policy.yaml');
    assert.equal(diff.code, 1, `changes: exit 1 (kubectl diff) ${diff.stderr}`);
    assert.match(
      diff.stdout,
      /group gateways: 1 change\(s\) on 1 device\(s\): cpe-1\n {2}\+ fw: acme\/xdp-firewall@\^1\.2/,
    );
    const applied = await bpfleet('policy', 'apply', '-f', 'policy.yaml', '--key', 'operator.key', '--json');
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal((JSON.parse(applied.stdout) as { serial: number }).serial, 1);
    const show = await bpfleet('policy', 'show', '--group', 'gateways');
    assert.match(show.stdout, /group gateways: serial 1/);
    const same = await bpfleet('policy', 'diff', '-f', 'policy.yaml');
    assert.match(same.stdout, /no change/);
    assert.equal(same.code, 0, 'no change: exit 0');
  });

  it('diff and --dry-run ask the edge: what apply would refuse is refused, map entries shown', async () => {
    const write = (name: string, programs: string) =>
      writeFile(join(dir, name), `target: { group: gateways }\nfleet: acme\nprograms:\n${programs}`);
    const fw =
      '  - id: fw\n    package: acme/xdp-firewall\n    version: "^1.2"\n    attach: { interface: wan0 }\n';
    await write(
      'unknown.yaml',
      '  - { id: fw, package: acme/nope, version: "1.0.0", attach: { interface: wan0 } }\n',
    );
    await write('range.yaml', `${fw}    config: { max_pps: 0 }\n`);
    await write(
      'nomatch.yaml',
      '  - { id: fw, package: acme/xdp-firewall, version: "^9", attach: { interface: wan0 } }\n',
    );
    await write('unmanaged.yaml', `${fw}    maps: { verdicts: [] }\n`);
    for (const file of ['unknown.yaml', 'range.yaml', 'nomatch.yaml', 'unmanaged.yaml']) {
      const diff = await bpfleet('policy', 'diff', '-f', file, '--json');
      assert.equal(diff.code, 2, `${file}: refused by the edge, exit 2: ${diff.stdout}`);
      assert.equal(
        (JSON.parse(diff.stdout) as { error: { code: string } }).error.code,
        'POLICY_INVALID',
        file,
      );
      const dry = await bpfleet(
        'policy',
        'apply',
        '-f',
        file,
        '--key',
        'operator.key',
        '--dry-run',
        '--json',
      );
      assert.equal(dry.code, 1, `${file}: dry run refused as apply would be`);
      assert.equal(
        (JSON.parse(dry.stdout) as { error: { code: string } }).error.code,
        'POLICY_INVALID',
        file,
      );
    }
    await writeFile(
      join(dir, 'wrong-fleet.yaml'),
      `target: { group: gateways }\nfleet: other\nprograms:\n${fw}`,
    );
    const fleetDiff = await bpfleet('policy', 'diff', '-f', 'wrong-fleet.yaml', '--json');
    assert.equal(
      (JSON.parse(fleetDiff.stdout) as { error: { code: string } }).error.code,
      'POLICY_WRONG_FLEET',
    );

    await write(
      'entries.yaml',
      `${fw}    config: { max_pps: 5000 }\n    maps: { blocklist: [{ key: 198.18.9.1, value: 1 }] }\n`,
    );
    const entries = await bpfleet('policy', 'diff', '-f', 'entries.yaml');
    assert.equal(entries.code, 1, entries.stderr);
    assert.match(entries.stdout, /~ fw: map entries\n {6}\+ blocklist\[198\.18\.9\.1 = 1\]/);
    const dry = await bpfleet('policy', 'apply', '-f', 'entries.yaml', '--key', 'operator.key', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /checked \(dry run\)/);
    assert.equal(runtime.deps.policies.current({ group: 'gateways' })?.serial, 1, 'nothing published');
  });

  it('refuses a bad policy before anything is sent, with the reason and exit 1', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      'target: { group: gateways }\nfleet: acme\nprograms:\n  - { id: fw, package: acme/xdp-firewall, version: "1.2.0", config: { max_pps: 0 } }\n',
    );
    const bad = await bpfleet('policy', 'apply', '-f', 'bad.yaml', '--key', 'operator.key', '--json');
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'POLICY_INVALID');
    await writeFile(join(dir, 'typo.yaml'), 'target: { group: gateways }\nfleet: acme\nprogramz: []\n');
    const typo = await bpfleet('policy', 'apply', '-f', 'typo.yaml', '--key', 'operator.key');
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /programz/);
    assert.equal(
      runtime.deps.policies.current({ group: 'gateways' })?.serial,
      1,
      'nothing new was published',
    );
  });

  it('refuses bad rollout options as usage errors, and a rollout the edge refuses leaves nothing running', async () => {
    const start = (...extra: string[]) =>
      bpfleet('rollout', 'start', 'gateways', 'acme/xdp-firewall@1.2.0', ...extra);
    const bare = await start('--wave-timeout', '5');
    assert.equal(bare.code, 2, 'a duration without a unit is a usage error');
    assert.match(bare.stderr, /--wave-timeout: "5" has no unit; write 5s, 5m or 5h/);
    const down = await start('--waves', '10%,5%');
    assert.equal(down.code, 2);
    assert.match(down.stderr, /wave 2 \("5%"\) must be above 10%: waves are cumulative/);
    assert.match((await start('--waves', 'abc')).stderr, /wave 1 \("abc"\) is not a count or a percentage/);
    assert.equal((await start('--wave-timeout', '1d', '--waves', 'x')).code, 2);
    const missing = await bpfleet('rollout', 'start', 'gateways', 'acme/xdp-firewall@9.9.9', '--json');
    assert.equal(missing.code, 1);
    assert.equal((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'POLICY_INVALID');
    const all = JSON.parse((await bpfleet('rollout', 'status', '--json')).stdout) as Array<{ state: string }>;
    assert.deepEqual(
      all.filter((r) => r.state === 'RUNNING'),
      [],
      'the refused rollout does not block the group',
    );
  });

  it('shows the fleet as a table and as JSON, and runs a rollout to abort', async () => {
    const table = await bpfleet('fleet', 'status');
    assert.match(table.stdout, /^DEVICE\s+PRESENCE\s+GROUPS/);
    assert.match(table.stdout, /cpe-1\s+unknown\s+gateways/);
    const started = await bpfleet(
      'rollout',
      'start',
      'gateways',
      'acme/xdp-firewall@1.2.0',
      '--waves',
      '1',
      '--json',
    );
    assert.equal(started.code, 0, started.stderr);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    const status = await bpfleet('rollout', 'status', id.slice(0, 6));
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /RUNNING\n {2}wave 1\* +1 device\(s\): IN_PROGRESS 1/);
    assert.match(status.stdout, /wave timeout 5m\)/);
    assert.match(status.stdout, /devices:\nDEVICE +WAVE +STATUS +DETAIL\ncpe-1 +1 +IN_PROGRESS/);
    const list = await bpfleet('rollout', 'status');
    assert.match(
      list.stdout,
      new RegExp(
        `^ID +STATE +PACKAGE[^\n]*\n${id.slice(0, 8)} +RUNNING +acme/xdp-firewall@1\\.2\\.0 +gateways +1/1 +0/1`,
      ),
    );
    assert.equal((await bpfleet('rollout', 'status', 'zzzz')).code, 1);
    const aborted = await bpfleet('rollout', 'abort', id.slice(0, 8), '--json');
    assert.equal((JSON.parse(aborted.stdout) as { state: string }).state, 'ABORTED');
  });
});
