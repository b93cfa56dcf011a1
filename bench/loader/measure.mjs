// Times loadCollection + attach of the sample XDP program through the SDK loader, once per input line (µs).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const [sdkBpf, objPath, iface, mode] = process.argv.slice(2);
const { loadCollection, loadCollectionSpec } = await import(sdkBpf);
const bytes = readFileSync(objPath);
const spec = loadCollectionSpec(bytes);
for await (const _ of createInterface({ input: process.stdin })) {
  const t0 = performance.now();
  // "bytes": the whole path from verified bytes; "spec": with the spec parsed once up front, as the agent does.
  const coll = await loadCollection(mode === 'spec' ? spec : bytes);
  const link = await coll.programs.values().next().value.attach({ kind: 'xdp', interface: iface });
  const t1 = performance.now();
  link.close();
  coll.close();
  process.stdout.write(`${Math.round((t1 - t0) * 10000) / 10}\n`);
}
