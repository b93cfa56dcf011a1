// Every library program: its manifest's metric names keep Prometheus conventions, and every `bpfleet_…` metric its
// README promises is one the manifest exports (so the README never names a series that does not exist).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertMetricConventions } from './metric-specs.js';
import { parseManifest } from './parse-manifest.js';

const LIBRARY = fileURLToPath(new URL('../../../bpf-programs', import.meta.url));

for (const program of readdirSync(LIBRARY)) {
  test(`${program}: metric names keep the conventions and the README promises only exported names`, () => {
    const manifest = parseManifest(readFileSync(join(LIBRARY, program, 'manifest.json')));
    assertMetricConventions(manifest.maps);
    const exported = new Set(
      Object.values(manifest.maps ?? {}).flatMap((m) => (m.metrics ?? []).map((x) => x.name)),
    );
    const readme = readFileSync(join(LIBRARY, program, 'README.md'), 'utf8');
    const promised = [...readme.matchAll(/`(bpfleet_[a-z0-9_]+)/g)].map((m) => m[1] as string);
    for (const name of promised)
      assert.ok(exported.has(name), `${program}/README.md names ${name}, not in the manifest`);
  });
}
