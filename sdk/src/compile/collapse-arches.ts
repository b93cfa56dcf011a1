// Arches whose objects came out byte-identical ship once, under bpf/any/, with the first such arch's minimized BTF.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ANY_ARCH, OBJECT_DIR } from '../archive/paths.js';

export interface CollapsedFiles {
  /** The package's file list with the identical arches' files moved to bpf/any/. */
  files: Record<string, string>;
  /** The arches bpf/any/ serves (none when no two arches agree). */
  any: string[];
}

function archOf(path: string): string | undefined {
  const parts = path.split('/');
  return parts.length === 3 && parts[0] === OBJECT_DIR ? parts[1] : undefined;
}

/**
 * Groups arches by the bytes of their bpf/<arch>/*.bpf.o; the largest group of two or more (the first arch's, on a tie)
 * becomes bpf/any/. The others keep their own folders: a device looks in bpf/<its arch>/ first. Minimized BTF is
 * not compared: it is packed only when it holds UAPI and wire-format types alone, whose layout is the same on every
 * arch, but each arch's kernel BTF numbers them in its own order, so the bytes differ.
 */
export async function collapseArches(
  files: Readonly<Record<string, string>>,
  arches: readonly string[],
): Promise<CollapsedFiles> {
  const digests = new Map<string, string[]>();
  for (const [path, file] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    const arch = archOf(path);
    if (!arch || !path.endsWith('.bpf.o')) continue;
    const sha = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    digests.set(arch, [...(digests.get(arch) ?? []), `${path.slice(path.lastIndexOf('/') + 1)}=${sha}`]);
  }
  const groups = new Map<string, string[]>();
  for (const arch of arches) {
    const key = (digests.get(arch) ?? []).join('\n');
    groups.set(key, [...(groups.get(key) ?? []), arch]);
  }
  const best = [...groups.values()].reduce<string[]>((a, g) => (g.length > a.length ? g : a), []);
  if (best.length < 2) return { files: { ...files }, any: [] };
  const out: Record<string, string> = {};
  for (const [path, file] of Object.entries(files)) {
    const arch = archOf(path);
    if (arch === undefined || !best.includes(arch)) out[path] = file;
    else if (arch === best[0])
      out[`${OBJECT_DIR}/${ANY_ARCH}/${path.slice(path.lastIndexOf('/') + 1)}`] = file;
  }
  return { files: out, any: best };
}
