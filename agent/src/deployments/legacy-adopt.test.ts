// Legacy attach mode at loader level (BPFLEET_ATTACH_MODE=legacy): a crash between the netlink attach and the pin
// leaves the program on its hook with no pin; the next start takes it off, so the deployment can attach again.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ATTACH_MODE_ENV } from '@bpfleet/sdk/bpf';
import { silentLogger } from '../logger.js';
import { arch } from '../testing/kernel-fixtures.js';
import { BpfLoader } from './bpf-loader.js';
import { DeploymentMetaStore } from './deployment-meta.js';
import { CGROUP_ROOT, objectSpec, xdpProgramId } from './loader-test-kit.js';

process.env[ATTACH_MODE_ENV] = 'legacy';

const hex = randomBytes(3).toString('hex');
const dev = `fbk${hex}a`;
const pinRoot = `/sys/fs/bpf/bpfleet-fbk-${hex}`;
const dataDir = mkdtempSync(join(tmpdir(), 'bpfleet-fbk-'));
const store = new DeploymentMetaStore(join(dataDir, 'deployments'));
const loader = () =>
  new BpfLoader({
    pinRoot,
    meta: store,
    arch,
    cgroupRoot: CGROUP_ROOT,
    allow: { interfaces: [dev], cgroups: [] },
    logger: silentLogger,
  });

before(() => {
  execFileSync('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', `fbk${hex}b`], { stdio: 'pipe' });
  execFileSync('ip', ['link', 'set', dev, 'up'], { stdio: 'pipe' });
});
after(() => {
  spawnSync('ip', ['link', 'del', dev]);
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test('an XDP program no pin names after a crash is taken off its hook at the next start', async () => {
  const spec = await objectSpec('orphan', 'kind_xdp', [{ name: 'kind_xdp' }], { interface: dev });
  const first = loader();
  await first.attach(spec);
  const id = xdpProgramId(dev);
  assert.ok(id, 'on the hook through netlink');
  // The crash window: attached, not yet pinned, the record still says "attaching"; the process dies.
  rmSync(join(pinRoot, 'orphan', 'links', 'kind_xdp'));
  const meta = await store.read('orphan');
  assert.ok(meta);
  await store.write('orphan', { ...meta, phase: 'attaching' });
  first.release();
  assert.equal(xdpProgramId(dev), id, 'a netlink attachment outlives its process');

  const second = loader();
  assert.deepEqual(await second.adopt(), [], 'half an attach is not adopted');
  assert.equal(xdpProgramId(dev), undefined, 'and its program is off the hook');
  await second.attach(spec);
  assert.ok(xdpProgramId(dev), 'the deployment attaches again (no XDP_BUSY)');
  await second.detach('orphan');
  assert.equal(xdpProgramId(dev), undefined);
});
