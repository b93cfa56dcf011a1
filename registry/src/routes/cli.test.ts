// The bpfleet CLI against a served registry: login, publish, info, channel set/list, yank, with --json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RegistryClient } from '@bpfleet/sdk/registry-client';
import { createRegistryFixture, type RegistryFixture } from '../testing/registry-fixture.js';
import { type ServedFixture, serveFixture } from '../testing/serve-fixture.js';
import { buildSignedPackage } from '../testing/signed-package.js';
import { createTestKeys, createTestPublisher } from '../testing/test-keys.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@bpfleet/sdk/errors'))), 'cli', 'main.js');
const run = promisify(execFile);

describe('bpfleet CLI against the registry', () => {
  let fx: RegistryFixture;
  let served: ServedFixture;
  let home: string;
  let token: string;
  const publisher = createTestPublisher();

  async function bpfleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
        env: { PATH: process.env.PATH ?? '', XDG_CONFIG_HOME: home, HOME: home },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'bpfleet-cli-home-'));
    fx = await createRegistryFixture({ keys: createTestKeys() });
    served = await serveFixture(fx);
    const admin = new RegistryClient({ url: served.url, token: fx.adminToken });
    await admin.createNamespace('acme');
    await admin.addPublisherKey('acme', publisher.pair.publicKeyPem);
    token = (await admin.createToken('acme', 'cli')).token;
  });
  after(async () => {
    await served.close();
    await fx.close();
    await rm(home, { recursive: true, force: true });
  });

  it('login stores the token 0600; publish, info, channel, yank work with --json', async () => {
    const login = await bpfleet('login', '--registry', served.url, '--token', token, '--json');
    assert.equal(login.code, 0, login.stderr);
    const credentials = join(home, 'bpfleet', 'credentials.json');
    assert.equal((await stat(credentials)).mode & 0o777, 0o600);

    const pkg = await buildSignedPackage('acme/xdp-fw', '1.2.0', publisher.signing);
    await writeFile(join(home, 'pkg.tgz'), pkg.archive);
    await writeFile(join(home, 'pkg.bundle.json'), JSON.stringify(pkg.bundle));
    const published = await bpfleet(
      'publish',
      join(home, 'pkg.tgz'),
      '--bundle',
      join(home, 'pkg.bundle.json'),
      '--json',
    );
    assert.equal(published.code, 0, published.stderr);
    assert.equal((JSON.parse(published.stdout) as { digest: string }).digest, pkg.digest);
    assert.equal(published.stderr, '', 'no progress output when not on a TTY');

    const again = await bpfleet(
      'publish',
      join(home, 'pkg.tgz'),
      '--bundle',
      join(home, 'pkg.bundle.json'),
      '--json',
    );
    assert.equal(again.code, 1);
    assert.equal((JSON.parse(again.stdout) as { error: { code: string } }).error.code, 'VERSION_EXISTS');

    const other = await buildSignedPackage('acme/xdp-fw', '1.3.0', publisher.signing);
    await writeFile(join(home, 'other.tgz'), other.archive);
    const mismatch = await bpfleet(
      'publish',
      join(home, 'other.tgz'),
      '--bundle',
      join(home, 'pkg.bundle.json'),
    );
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /digest mismatch/);

    // A move is a publisher statement: without --key there is nothing to send; with it, the CLI signs the move.
    const keyless = await bpfleet('channel', 'set', 'acme/xdp-fw', 'stable', '1.2.0', '--json');
    assert.equal(keyless.code, 2, 'a usage error: --key is required');
    assert.match(keyless.stderr, /--key/);
    const keyFile = join(home, 'pub.key');
    await writeFile(keyFile, publisher.pair.privateKeyPem, { mode: 0o600 });
    const moved = await bpfleet(
      'channel',
      'set',
      'acme/xdp-fw',
      'stable',
      '1.2.0',
      '--key',
      keyFile,
      '--json',
    );
    assert.equal(moved.code, 0, moved.stderr);
    const info = await bpfleet('info', 'acme/xdp-fw', '--json');
    const body = JSON.parse(info.stdout) as { latest: string; channels: Record<string, string> };
    assert.equal(body.latest, '1.2.0');
    assert.deepEqual(body.channels, { stable: '1.2.0' });
    const human = await bpfleet('info', 'acme/xdp-fw');
    assert.match(human.stdout, /stable=1\.2\.0/);

    const unsigned = await bpfleet('yank', 'acme/xdp-fw@1.2.0', '--reason', 'bad', '--json');
    assert.equal((JSON.parse(unsigned.stdout) as { error: { code: string } }).error.code, 'KEY_REQUIRED');
    const yank = await bpfleet('yank', 'acme/xdp-fw@1.2.0', '--key', keyFile, '--reason', 'bad', '--json');
    assert.equal((JSON.parse(yank.stdout) as { yanked: boolean }).yanked, true);
    const version = await bpfleet('info', 'acme/xdp-fw@1.2.0');
    assert.match(version.stdout, /yanked\s+yes: bad/);
    const undo = await bpfleet('yank', 'acme/xdp-fw@1.2.0', '--key', keyFile, '--undo', '--json');
    assert.equal((JSON.parse(undo.stdout) as { yanked: boolean }).yanked, false, undo.stdout);

    const usage = await bpfleet('yank', 'acme/xdp-fw');
    assert.equal(usage.code, 1);
    const envOverride = await run(process.execPath, [CLI, 'info', 'acme/xdp-fw', '--json'], {
      env: { PATH: process.env.PATH ?? '', XDG_CONFIG_HOME: home, BPFLEET_REGISTRY: 'http://127.0.0.1:1' },
    }).catch((e: { stdout: string }) => e);
    assert.match(envOverride.stdout, /REGISTRY_UNREACHABLE/);
  });

  it('login checks the token with the registry and saves nothing it refuses', async () => {
    const wrong = await bpfleet(
      'login',
      '--registry',
      served.url,
      '--admin',
      '--token',
      'x'.repeat(43),
      '--json',
    );
    assert.equal(wrong.code, 1);
    assert.equal((JSON.parse(wrong.stdout) as { error: { code: string } }).error.code, 'TOKEN_REFUSED');
    const notAdmin = await bpfleet('login', '--registry', served.url, '--admin', '--token', token);
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /a publish token for namespace acme, not the admin token; drop --admin/);
    const admin = await bpfleet(
      'login',
      '--registry',
      served.url,
      '--admin',
      '--token',
      fx.adminToken,
      '--json',
    );
    assert.equal(admin.code, 0, admin.stderr);
    assert.equal((JSON.parse(admin.stdout) as { role: string }).role, 'admin');
    const saved = JSON.parse(await readFile(join(home, 'bpfleet', 'credentials.json'), 'utf8')) as {
      registries: Record<string, { adminToken?: string }>;
    };
    assert.equal(saved.registries[served.url]?.adminToken, fx.adminToken, 'only the checked token was saved');

    // A registry with no saved token: reachable says which registries have one, unreachable says so.
    const other = served.url.replace('127.0.0.1', 'localhost');
    const missing = await bpfleet('namespace', 'create', 'zz', '--registry', other, '--json');
    const body = JSON.parse(missing.stdout) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'TOKEN_MISSING', missing.stdout);
    assert.match(
      body.error.message,
      new RegExp(`tokens are saved for ${served.url}: is --registry right\\?`),
    );
    const down = await bpfleet('namespace', 'create', 'zz', '--registry', 'http://127.0.0.1:1', '--json');
    assert.equal((JSON.parse(down.stdout) as { error: { code: string } }).error.code, 'REGISTRY_UNREACHABLE');
  });

  it('whoami, search, token list and revoke, logout', async () => {
    const who = await bpfleet('whoami', '--registry', served.url, '--token', token, '--json');
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual(
      { ...(JSON.parse(who.stdout) as Record<string, unknown>), tokenId: undefined },
      { registry: served.url, role: 'publisher', namespace: 'acme', tokenId: undefined },
    );
    const found = await bpfleet('search', 'xdp', '--registry', served.url);
    assert.match(found.stdout, /^PACKAGE +LATEST +VERSIONS +UPDATED +DESCRIPTION\nacme\/xdp-fw +/);
    assert.match(
      (await bpfleet('search', 'nothing-like-this', '--registry', served.url)).stdout,
      /\(no packages matching/,
    );

    const admin = ['--registry', served.url, '--token', fx.adminToken];
    const extra = JSON.parse(
      (await bpfleet('namespace', 'token', 'acme', '--label', 'ci2', ...admin, '--json')).stdout,
    ) as {
      id: string;
      token: string;
    };
    const listed = await bpfleet('namespace', 'tokens', 'acme', ...admin);
    assert.match(listed.stdout, new RegExp(`${extra.id} +ci2 +`));
    assert.ok(!listed.stdout.includes(extra.token), 'secrets are never listed');
    const revoked = await bpfleet('namespace', 'revoke-token', 'acme', extra.id, ...admin, '--json');
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await bpfleet('whoami', '--registry', served.url, '--token', extra.token, '--json');
    assert.equal(refused.code, 1);
    assert.match((JSON.parse(refused.stdout) as { error: { message: string } }).error.message, /was revoked/);

    const out = await bpfleet('logout', '--registry', served.url, '--json');
    assert.equal(out.code, 0, out.stderr);
    const after = JSON.parse(await readFile(join(home, 'bpfleet', 'credentials.json'), 'utf8')) as {
      registries: Record<string, unknown>;
    };
    assert.equal(after.registries[served.url], undefined, 'both tokens forgotten');
    assert.equal((await bpfleet('logout', '--registry', served.url)).code, 1, 'nothing left to forget');
  });

  it('publish and sign say what is missing and what to run', async () => {
    const nope = await bpfleet('publish', join(home, 'nope.tgz'));
    assert.equal(nope.code, 1);
    assert.match(nope.stderr, /publish .*nope\.tgz: cannot read the package \(ENOENT/);
    const pkg = await buildSignedPackage('acme/unsigned', '1.0.0', publisher.signing);
    await writeFile(join(home, 'unsigned.bpfleet.tgz'), pkg.archive);
    const unsigned = await bpfleet('publish', join(home, 'unsigned.bpfleet.tgz'));
    assert.match(
      unsigned.stderr,
      /no bundle at .*unsigned\.bpfleet\.sigstore\.json: the package is not signed; run `bpfleet sign .* --key <publisher\.key>` first, or give --bundle \[BUNDLE_MISSING\]/,
    );
    await writeFile(join(home, 'acme.pub'), publisher.pair.publicKeyPem, { mode: 0o644 });
    const pub = await bpfleet('sign', join(home, 'unsigned.bpfleet.tgz'), '--key', join(home, 'acme.pub'));
    assert.equal(pub.code, 1);
    assert.match(pub.stderr, /this is a public key; sign with the private key \(.*acme\.key/);
    assert.doesNotMatch(pub.stderr, /chmod/);
    const help = await bpfleet('sign', '--help');
    assert.match(help.stdout, /x\.bpfleet\.tgz\s+→\s+x\.bpfleet\.sigstore\.json/);
  });
});
