// A package's minimized BTF handed to libbpf, which reads `btf_custom_path` only from a file: a private one per load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs `use` with the verified BTF bytes in a file only this process's user can read (a fresh 0700 directory),
 * and removes it afterwards: libbpf parses it during load, so it must live until `use` settles.
 */
export async function withBtfFile<T>(
  btf: Uint8Array | undefined,
  use: (path?: string) => Promise<T>,
): Promise<T> {
  if (!btf) return use();
  const dir = mkdtempSync(join(tmpdir(), 'bpfleet-btf-'));
  try {
    const path = join(dir, 'min.btf');
    writeFileSync(path, btf, { mode: 0o600 });
    return await use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
