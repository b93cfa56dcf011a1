// The commands the README shows: each workspace bin is a tracked, executable launcher outside dist/ (so npm ci
// links it in a fresh clone), and `npx --no-install <bin>` runs this checkout's own command, offline.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKSPACES = ['sdk', 'registry', 'agent'];

const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

function bins(): { workspace: string; name: string; path: string }[] {
  return WORKSPACES.flatMap((workspace) =>
    Object.entries((readJson(`${workspace}/package.json`).bin ?? {}) as Record<string, string>).map(
      ([name, path]) => ({ workspace, name, path: join(workspace, path) }),
    ),
  );
}

describe('npm bins', () => {
  it('point at executable files tracked in git, never into dist/ (which npm ci has not built yet)', () => {
    const found = bins();
    assert.deepEqual(found.map((b) => b.name).sort(), ['bpfleet', 'bpfleet-agent', 'bpfleet-edge']);
    for (const bin of found) {
      assert.doesNotMatch(bin.path, /(^|\/)dist\//, bin.name);
      const staged = execFileSync('git', ['ls-files', '-s', '--', bin.path], { cwd: root, encoding: 'utf8' });
      assert.match(staged, /^100755 /, `${bin.path} is tracked and executable`);
    }
  });

  it('the root package is the private `bpfleet`, so npx resolves that name inside the checkout', () => {
    const pkg = readJson('package.json');
    assert.equal(pkg.private, true);
    // npx resolves `bpfleet` to this (local) root package first: it never fetches a public one inside the checkout.
    assert.equal(pkg.name, 'bpfleet');
  });

  for (const [bin, workspace] of [
    ['bpfleet', 'sdk'],
    ['bpfleet-edge', 'registry'],
  ] as const) {
    it(`npx --no-install ${bin} --version runs this checkout's ${bin} without the network`, () => {
      const run = spawnSync('npx', ['--no-install', '--offline', bin, '--version'], {
        cwd: root,
        encoding: 'utf8',
        // An unreachable registry: had npx looked beyond the checkout, it would fail rather than fetch.
        env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' },
        timeout: 60_000,
      });
      assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
      assert.match(
        run.stdout,
        new RegExp(readJson(`${workspace}/package.json`).version.replaceAll('.', '\\.')),
      );
    });
  }
});
