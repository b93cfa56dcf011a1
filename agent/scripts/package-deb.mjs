// `npm run package:agent`: bpfleet-agent_<version>_<arch>.deb with dpkg-deb — the bundle, koffi and its native module
// for the arch, the package's own Node LTS, the launcher, the systemd unit, the example config (a conffile).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const AGENT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(AGENT, '..');
const PACKAGING = join(AGENT, 'packaging');
const LIB = 'usr/lib/bpfleet-agent';
/** Debian's architecture names and Node's, for the arches Node ships a Linux build of that koffi supports too. */
const ARCHES = { amd64: 'x64', arm64: 'arm64' };

const HELP = `Usage: npm run package:agent -- [--arch amd64|arm64] [--out DIR] [--no-build] [--json]

Builds bpfleet-agent_<version>_<arch>.deb (dpkg-deb) in --out (default: build/packages).
  --arch      Debian architecture (default: this machine's, from dpkg --print-architecture)
  --out       output directory
  --no-build  use agent/dist as it is (no tsc); the bundle is always made again
  --json      print {"path", "version", "arch", "bytes"} instead of a line

Examples:
  npm run package:agent
  npm run package:agent -- --arch arm64 --out /tmp/debs
  sudo apt-get install ./build/packages/bpfleet-agent_0.1.0_amd64.deb

Exit codes: 0 built, 1 the build failed, 2 wrong arguments.`;

class UsageError extends Error {}

function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        arch: { type: 'string' },
        out: { type: 'string' },
        'no-build': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    throw new UsageError(err.message);
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const arch = args.arch ?? execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const nodeArch = ARCHES[arch];
  if (!nodeArch) throw new UsageError(`--arch ${arch}: not one of ${Object.keys(ARCHES).join(', ')}`);
  const out = resolve(args.out ?? join(ROOT, 'build', 'packages'));
  const version = JSON.parse(readFileSync(join(AGENT, 'package.json'), 'utf8')).version;
  const stage = mkdtempSync(join(tmpdir(), 'bpfleet-agent-deb-'));
  // The stage is the package's `/`: dpkg must not see a 0700 root.
  chmodSync(stage, 0o755);
  try {
    if (!args['no-build'])
      run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--build', AGENT]);
    run(process.execPath, [join(AGENT, 'scripts/bundle.mjs')]);
    stageFiles(stage, nodeArch);
    if (nodeArch === process.arch) smokeTest(join(stage, LIB));
    writeControl(stage, version, arch);
    mkdirSync(out, { recursive: true });
    const path = join(out, `bpfleet-agent_${version}_${arch}.deb`);
    // zstd (dpkg >= 1.21.18, Debian 12): xz took 5.5 min over the 120 MB node binary on a busy 2-core machine.
    // --root-owner-group: files are root:root inside whoever builds.
    run('dpkg-deb', ['--root-owner-group', '-Zzstd', '--build', stage, path]);
    const bytes = statSync(path).size;
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ path, version, arch, bytes })}\n`
        : `${path} (${(bytes / 1e6).toFixed(1)} MB)\n`,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function run(cmd, argv) {
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function stageFiles(stage, nodeArch) {
  const lib = join(stage, LIB);
  mkdirSync(join(lib, 'dist'), { recursive: true });
  copyFileSync(join(AGENT, 'dist/bpfleet-agent.mjs'), join(lib, 'dist/bpfleet-agent.mjs'));
  install(join(AGENT, 'bin/bpfleet-agent'), join(lib, 'bin/bpfleet-agent'), 0o755);
  // The daemon reads its version from ../package.json; nothing else of the workspace's manifest is needed.
  const { name, version, license } = JSON.parse(readFileSync(join(AGENT, 'package.json'), 'utf8'));
  const manifest = { name, version, license, type: 'module' };
  writeFileSync(join(lib, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // koffi stays outside the bundle (it loads its native module from its own package): its JS and one arch's module.
  const koffi = join(ROOT, 'node_modules/koffi');
  const koffiVersion = JSON.parse(readFileSync(join(koffi, 'package.json'), 'utf8')).version;
  cpSync(koffi, join(lib, 'node_modules/koffi'), {
    recursive: true,
    // Its JS lives under src/ too (index.js imports src/koffi/index.js); the C++ and assembly sources stay out.
    filter: (src) => !/\/koffi\/(vendor|doc)(\/|$)/.test(src) && !/\.(S|asm|cc|hh|def|inc)$/.test(src),
  });
  const native = nativeKoffi(nodeArch, koffiVersion);
  const nativeDest = join(lib, 'node_modules/@koromix', `koffi-linux-${nodeArch}`);
  cpSync(native, nativeDest, { recursive: true, filter: (src) => !/\/musl_[^/]*(\/|$)/.test(src) });
  const runtime = nodeRuntime(nodeArch);
  install(join(runtime, 'bin/node'), join(lib, 'node/bin/node'), 0o755);
  install(join(runtime, 'LICENSE'), join(lib, 'node/LICENSE'), 0o644);
  install(join(PACKAGING, 'bpfleet-agent.sh'), join(stage, 'usr/bin/bpfleet-agent'), 0o755);
  install(
    join(PACKAGING, 'bpfleet-agent.service'),
    join(stage, 'lib/systemd/system/bpfleet-agent.service'),
    0o644,
  );
  install(join(PACKAGING, 'agent.yaml'), join(stage, 'etc/bpfleet-agent/agent.yaml'), 0o600);
  install(join(AGENT, 'docs/platforms.md'), join(stage, 'usr/share/doc/bpfleet-agent/platforms.md'), 0o644);
  writeFileSync(
    join(stage, 'usr/share/doc/bpfleet-agent/copyright'),
    'bpfleet-agent: Apache-2.0. Bundled: koffi (MIT), Node.js (MIT, see /usr/lib/bpfleet-agent/node/LICENSE).\n',
  );
  mkdirSync(join(stage, 'var/lib'), { recursive: true });
  mkdirSync(join(stage, 'var/lib/bpfleet-agent'), { mode: 0o700 });
  chmodSync(join(stage, 'var/lib/bpfleet-agent'), 0o700);
}

/** The staged runtime loads the staged koffi (and through it the system's libbpf) and the bundle starts. */
function smokeTest(lib) {
  const node = join(lib, 'node/bin/node');
  const probe = "const k = (await import('koffi')).default; k.load('libbpf.so.1');";
  execFileSync(node, ['--input-type=module', '-e', probe], { cwd: lib, stdio: 'inherit' });
  execFileSync(node, [join(lib, 'dist/bpfleet-agent.mjs'), '--version'], { stdio: 'ignore' });
}

function install(from, to, mode) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}

/** koffi's module for the arch: the installed optional dependency when it is this machine's, else npm pack. */
function nativeKoffi(nodeArch, version) {
  const installed = join(ROOT, 'node_modules/@koromix', `koffi-linux-${nodeArch}`);
  if (existsSync(join(installed, `linux_${nodeArch}/koffi.node`))) return installed;
  return npmPack(`@koromix/koffi-linux-${nodeArch}@${version}`, undefined);
}

/** Node's release binary from npm's node-linux-<arch>, at the pinned version, its integrity checked. */
function nodeRuntime(nodeArch) {
  const pin = JSON.parse(readFileSync(join(PACKAGING, 'node-runtime.json'), 'utf8'));
  return npmPack(`node-linux-${nodeArch}@${pin.version}`, pin.integrity[nodeArch]);
}

const CACHE = join(ROOT, 'build', 'package-cache');

/** `npm pack` into build/package-cache (kept between builds), unpacked; the tarball checked against `integrity`. */
function npmPack(spec, integrity) {
  const dir = join(CACHE, spec.replace(/[@/]/g, '_'));
  if (existsSync(join(dir, 'package', 'package.json'))) return join(dir, 'package');
  mkdirSync(dir, { recursive: true });
  run('npm', ['pack', spec, '--pack-destination', dir, '--silent']);
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${spec}: no tarball in ${dir}`);
  if (integrity) {
    const [algo, want] = integrity.split('-');
    const got = createHash(algo)
      .update(readFileSync(join(dir, tgz)))
      .digest('base64');
    if (got !== want) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`npm pack ${spec}: integrity mismatch: expected ${integrity}, got ${algo}-${got}`);
    }
  }
  run('tar', ['-xzf', join(dir, tgz), '-C', dir]);
  rmSync(join(dir, tgz));
  return join(dir, 'package');
}

function writeControl(stage, version, arch) {
  const debian = join(stage, 'DEBIAN');
  mkdirSync(debian, { recursive: true });
  const kib = Number(
    execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).split('\t')[0],
  );
  const control = [
    'Package: bpfleet-agent',
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: bpfleet maintainers <maintainers@bpfleet.invalid>',
    `Installed-Size: ${kib}`,
    // Node comes with the package (Debian 12's nodejs is 18, past its end of life); libbpf is the system's.
    'Depends: libbpf1 (>= 1:1.1), libc6 (>= 2.31), libstdc++6',
    'Section: net',
    'Priority: optional',
    'Homepage: https://bpfleet.invalid/',
    'Description: bpfleet device agent: signed eBPF micro-programs from the fleet edge',
    ' Receives operator-signed policies over MQTT, fetches and verifies signed packages',
    ' from the edge registry, loads them with libbpf and keeps the kernel as the policy says.',
    '',
  ].join('\n');
  writeFileSync(join(debian, 'control'), control);
  writeFileSync(join(debian, 'conffiles'), '/etc/bpfleet-agent/agent.yaml\n');
  for (const script of ['postinst', 'prerm', 'postrm']) {
    install(join(PACKAGING, 'debian', script), join(debian, script), 0o755);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`package:agent: ${err.message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
