// The pin root on a private bpffs mount: created root-only, refused when another user got there first.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BPF_FS_MAGIC, PinRootError, preparePinRoot } from './pin-root.js';

const NOBODY = 65534;
let mnt = '';
let plain = '';

/** The kernel's view of a path: owner and mode as stat(1) prints them. */
const stat = (path: string) => execFileSync('stat', ['-c', '%u %a', path], { encoding: 'utf8' }).trim();
/** Done as the other user really would, through its own uid, not chown by root. */
const asNobody = (...argv: string[]) =>
  execFileSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', ...argv]);

function refused(path: string, code: string, message: RegExp): void {
  assert.throws(
    () => preparePinRoot(path),
    (err: unknown) => {
      assert.ok(err instanceof PinRootError, String(err));
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    },
  );
}

before(() => {
  // A bpffs instance of this test's own: each bpf mount is a new, empty filesystem, mode 1777 like the default.
  mnt = mkdtempSync(join(tmpdir(), 'h4r-bpffs-'));
  execFileSync('mount', ['-t', 'bpf', 'h4r-bpffs', mnt]);
  // What a host without bpffs there looks like: another filesystem where the pins would go.
  plain = mkdtempSync(join(tmpdir(), 'h4r-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', 'h4r-tmpfs', plain]);
});

after(() => {
  for (const dir of [mnt, plain]) {
    if (!dir) continue;
    execFileSync('umount', [dir]);
    rmdirSync(dir);
  }
});

test('the private mount is a bpffs as mounted by default: root-owned, 1777', () => {
  assert.equal(stat(mnt), '0 1777');
  assert.equal(
    execFileSync('stat', ['-f', '-c', '%t', mnt], { encoding: 'utf8' }).trim(),
    BPF_FS_MAGIC.toString(16),
  );
});

test('creates a missing pin root and its parents, owned by the agent, mode 0700', () => {
  const root = join(mnt, 'fresh', 'deep', 'bpfleet');
  preparePinRoot(root);
  assert.equal(stat(root), '0 700');
  assert.equal(stat(join(mnt, 'fresh')), '0 700');
  // A second start finds it as it left it.
  preparePinRoot(root);
  assert.equal(stat(root), '0 700');
});

test('tightens its own 0755 pin root (an older agent made it with the umask) to 0700', () => {
  const root = join(mnt, 'older');
  mkdirSync(root, { mode: 0o755 });
  preparePinRoot(root);
  assert.equal(stat(root), '0 700');
});

test('refuses a pin root another user created in the sticky bpffs root, naming path, owner and mode', () => {
  const root = join(mnt, 'bpfleet');
  asNobody('mkdir', root);
  assert.equal(stat(root), `${NOBODY} 755`);
  const path = root.replaceAll('/', '\\/');
  refused(root, 'PIN_ROOT_UNSAFE', new RegExp(`pinRoot ${path}: it is owned by uid 65534 with mode 0755`));
  refused(root, 'PIN_ROOT_UNSAFE', new RegExp(`\\(rm -r ${path}\\) and start the agent again`));
  // Refusing changes nothing: the other user's directory stays as it was, for the operator to look at.
  assert.equal(stat(root), `${NOBODY} 755`);
});

test('refuses a parent inside bpffs owned by another user, even when the pin root below is the agent’s', () => {
  const parent = join(mnt, 'shared');
  asNobody('mkdir', '-m', '0755', parent);
  refused(join(parent, 'bpfleet'), 'PIN_ROOT_UNSAFE', /its parent \S+shared is owned by uid 65534/);
});

test('refuses a pin root or parent writable by others, even when root owns it', () => {
  const open = join(mnt, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  refused(open, 'PIN_ROOT_UNSAFE', /it is owned by uid 0 with mode 0777/);
  // A sticky world-writable parent is fine only as the mount; below it the agent's own rule holds.
  const sticky = join(mnt, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  refused(
    join(sticky, 'bpfleet'),
    'PIN_ROOT_UNSAFE',
    /its parent \S+sticky is owned by uid 0 with mode 1777/,
  );
});

test('refuses a pin root holding another user’s directory or a symlink', () => {
  const root = join(mnt, 'holds');
  preparePinRoot(root);
  mkdirSync(join(root, 'fw', 'links'), { recursive: true, mode: 0o700 });
  chownSync(join(root, 'fw', 'links'), NOBODY, NOBODY);
  refused(root, 'PIN_ROOT_UNSAFE', /holds \S+fw\/links \(a directory, uid 65534, mode 0700\)/);
  rmdirSync(join(root, 'fw', 'links'));
  symlinkSync('/sys/fs/bpf', join(root, 'fw', 'elsewhere'));
  refused(root, 'PIN_ROOT_UNSAFE', /holds \S+fw\/elsewhere \(a symlink/);
});

test('refuses a symlink on the way inside bpffs', () => {
  symlinkSync(plain, join(mnt, 'link'));
  refused(
    join(mnt, 'link', 'bpfleet'),
    'PIN_ROOT_UNSAFE',
    /its parent \S+link is not a directory \(a symlink\)/,
  );
});

test('refuses a bpffs mount writable by others that is not sticky', () => {
  chmodSync(mnt, 0o777);
  try {
    refused(
      join(mnt, 'fresh'),
      'PIN_ROOT_UNSAFE',
      /the bpffs mount \S+ is owned by uid 0 with mode 0777.*mode=0700/,
    );
  } finally {
    chmodSync(mnt, 0o1777);
  }
});

test('a pin root off bpffs is a clear error naming the mount, and nothing is created', () => {
  const root = join(plain, 'pins', 'bpfleet');
  refused(
    root,
    'PIN_ROOT_NOT_BPFFS',
    /^pinRoot \S+ is not on a bpf filesystem \(\S+ is tmpfs\): mount -t bpf bpffs /,
  );
  refused(
    root,
    'PIN_ROOT_NOT_BPFFS',
    new RegExp(`mount -t bpf bpffs ${join(plain, 'pins').replaceAll('/', '\\/')}$`),
  );
  assert.equal(existsSync(join(plain, 'pins')), false);
});
