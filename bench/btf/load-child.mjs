// Child of the BTF bench: loads one object `iterations` times (with a BTF file when given), prints medians and peak RSS.
import { existsSync, readFileSync } from 'node:fs';
import { resourceUsage } from 'node:process';

const [sdkBpf, object, iterationsArg, btfFile] = process.argv.slice(2);
const { loadCollection } = await import(sdkBpf);
const bytes = readFileSync(object);
const btf = btfFile ? readFileSync(btfFile) : undefined;
const iterations = Number(iterationsArg);

// Peak memory of the first load alone: RSS high-water mark before and after it, in this fresh process.
const rssBefore = resourceUsage().maxRSS;
const times = [];
let peakKb = 0;
for (let i = 0; i < iterations; i++) {
  const started = process.hrtime.bigint();
  const coll = await loadCollection(bytes, btf ? { btf } : {});
  times.push(Number(process.hrtime.bigint() - started) / 1e6);
  coll.close();
  if (i === 0) peakKb = resourceUsage().maxRSS - rssBefore;
}
times.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    kernelBtf: existsSync('/sys/kernel/btf/vmlinux'),
    medianMs: times[Math.floor(times.length / 2)],
    firstPeakKb: peakKb,
  }),
);
