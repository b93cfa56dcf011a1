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
