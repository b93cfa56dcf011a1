// Child of the no-BTF test, run where /sys/kernel/btf is hidden: loads the XDP counter, with a BTF file if given.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadCollection } from '../collection.js';
import { testObject } from './fixtures.js';

const [btfFile] = process.argv.slice(2);
const btf = btfFile ? readFileSync(btfFile) : undefined;
const kernelBtf = existsSync('/sys/kernel/btf/vmlinux');
try {
  const coll = await loadCollection(testObject('xdp_counter'), {
    config: { version: 1n },
    ...(btf && { btf }),
  });
  const id = coll.program('count_pings').id;
  // The kernel, not the loader, says the program is there.
  const shown = JSON.parse(
    execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' }),
  );
  coll.close();
  process.stdout.write(JSON.stringify({ kernelBtf, loaded: shown.id === id, name: shown.name }));
} catch (err) {
  const e = err as { code?: string; message?: string };
  process.stdout.write(JSON.stringify({ kernelBtf, loaded: false, code: e.code, message: e.message }));
}
