// Test fixtures: hand-made tar streams (any header tar-stream can write) and a valid file set.
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { exampleManifestJson } from '../manifest/example-manifest.js';
import type { PackFile } from './pack-archive.js';

export interface RawEntry {
  header: tar.Header | (Partial<tar.Header> & { name: string });
  data?: Buffer;
}

/** A tar stream with exactly these entries, in this order, unchecked. */
export async function makeTar(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk) => {
      chunks.push(chunk as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const { header, data } of entries) {
    if (data) pack.entry({ ...header, size: data.length }, data);
    else pack.entry(header);
  }
  pack.finalize();
  return done;
}

export async function makeTgz(entries: RawEntry[]): Promise<Buffer> {
  return gzipSync(await makeTar(entries));
}

export function validFiles(): PackFile[] {
  return [
    { path: 'manifest.json', data: Buffer.from(exampleManifestJson()) },
    { path: 'bpf/x86/xdp-firewall.bpf.o', data: Buffer.from('\x7fELF x86 object') },
    { path: 'bpf/arm64/xdp-firewall.bpf.o', data: Buffer.from('\x7fELF arm64 object') },
    { path: 'README.md', data: Buffer.from('# xdp-firewall\n') },
    { path: 'LICENSE', data: Buffer.from('Dual BSD/GPL\n') },
  ];
}

export function fileEntries(files: PackFile[] = validFiles()): RawEntry[] {
  return files.map((f) => ({ header: { name: f.path, type: 'file' }, data: Buffer.from(f.data) }));
}

/** Rewrites a ustar header block's checksum, so a hand-edited header passes tar's own check. */
export function withChecksum(block: Uint8Array): Buffer {
  const out = Buffer.from(block.subarray(0, 512));
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of out) sum += b;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

/** A ustar header for a regular file claiming `size` bytes (octal, up to 8 GiB - 1). */
export async function fileHeader(name: string, size: number): Promise<Buffer> {
  const block = (await makeTar([{ header: { name }, data: Buffer.alloc(0) }])).subarray(0, 512);
  const out = Buffer.from(block);
  out.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  return withChecksum(out);
}
