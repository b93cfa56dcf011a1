// The bpf-programs/ library: each program builds for every arch with no manifest/code issue and passes its tests.json.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../compile/build-program.js';
import { runTool } from '../compile/run-tool.js';
import { findToolchain } from '../compile/toolchain.js';
import { isGplCompatible, parseManifest } from '../manifest/index.js';
import { runProgramTests } from './run-program-tests.js';
import { type PacketTest, parseTestFile } from './test-file.js';

const PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bpf-programs');

async function build(name: string) {
  const dir = join(PROGRAMS, name);
  const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'));
  const tests = parseTestFile(await readFile(join(dir, 'tests.json'), 'utf8'), `${name}/tests.json`);
  const built = await buildProgram(runTool, await findToolchain(runTool), { dir, manifest, isGplCompatible });
  return { manifest, tests, built };
}

describe('bpf-programs', () => {
  for (const name of ['xdp-firewall', 'app-traffic']) {
    it(`${name}: builds for x86 and arm64 in agreement with its manifest and passes its tests in the kernel`, async () => {
      const { manifest, tests, built } = await build(name);
      assert.deepEqual(built.issues, []);
      assert.deepEqual(
        built.objects.map((o) => o.arch),
        ['x86', 'arm64'],
      );
      const host = built.objects.find((o) => o.arch === (process.arch === 'arm64' ? 'arm64' : 'x86'));
      const outcomes = await runProgramTests(host?.path ?? '', manifest, tests);
      const failed = outcomes.filter((o) => !o.ok);
      assert.deepEqual(failed, [], failed.map((o) => `${o.name}: ${o.failures.join('; ')}`).join('\n'));
      if (name === 'app-traffic')
        assert.ok(
          tests.some((t) => t.kind === 'traffic'),
          'real traffic runs too',
        );
    });
  }

  it('reports a wrong verdict, a wrong counter and a wrong packet, each by name', async () => {
    const { manifest, tests, built } = await build('xdp-firewall');
    const blocked = tests.find(
      (t): t is PacketTest => t.kind === 'packet' && t.name.startsWith('drops an IPv4'),
    );
    assert.ok(blocked);
    const wrong: PacketTest = {
      ...blocked,
      name: 'wrong on purpose',
      expect: {
        return: 'XDP_PASS',
        packet: { ipv4: { src: '198.18.0.1', dst: '198.18.0.2' } },
        maps: { verdicts: [{ key: 1, value: { packets: 5 } }] },
      },
    };
    const [outcome] = await runProgramTests(built.objects[0]?.path ?? '', manifest, [wrong]);
    assert.equal(outcome?.ok, false);
    assert.deepEqual(
      outcome?.failures.map((f) => f.split(':')[0]),
      ['return', 'packet', 'map verdicts[1].packets'],
    );
    assert.match(outcome?.failures[0] ?? '', /expected XDP_PASS \(2\), got XDP_DROP \(1\)/);
  });

  it('an empty expectation means an empty map, and is refused for an array map', async () => {
    const { manifest, tests, built } = await build('apn-tagger');
    const tagging = tests.find(
      (t): t is PacketTest => t.kind === 'packet' && (t.expect.maps?.tagged?.length ?? 0) > 0,
    );
    assert.ok(tagging, 'a case that counts a tagged packet');
    const claimsEmpty: PacketTest = {
      ...tagging,
      name: 'claims nothing was tagged',
      expect: { maps: { tagged: [] } },
    };
    const [outcome] = await runProgramTests(built.objects[0]?.path ?? '', manifest, [claimsEmpty]);
    assert.deepEqual(outcome?.failures, ['map tagged: expected no entries, found 1']);
    const fw = await build('xdp-firewall');
    const any = fw.tests.find((t): t is PacketTest => t.kind === 'packet');
    assert.ok(any);
    const [array] = await runProgramTests(fw.built.objects[0]?.path ?? '', fw.manifest, [
      { ...any, name: 'empty array', expect: { maps: { verdicts: [] } } },
    ]);
    assert.deepEqual(array?.failures, [
      'map verdicts: a percpu_array map has every key; list the keys and values to check',
    ]);
  });
});
