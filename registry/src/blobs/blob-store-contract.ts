// The BlobStore contract, written once: every implementation (filesystem, S3, …) runs it from its own test file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Digest } from '@bpfleet/sdk/digest';
import { isBpfleetError } from '@bpfleet/sdk/errors';
import { type BlobStore, readBlob } from './blob-store.js';

export interface BlobStoreFixture {
  store: BlobStore;
  close(): Promise<void>;
}

async function* chunks(...parts: (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function collect(iter: AsyncIterable<Uint8Array> | undefined): Promise<string | undefined> {
  if (!iter) return undefined;
  const out: Uint8Array[] = [];
  for await (const c of iter) out.push(c);
  return Buffer.concat(out).toString();
}

export function runBlobStoreContract(name: string, open: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    async function withStore(fn: (store: BlobStore) => Promise<void>): Promise<void> {
      const fixture = await open();
      try {
        await fn(fixture.store);
      } finally {
        await fixture.close();
      }
    }

    it('stages invisibly, then commits under the sha256 of the bytes', () =>
      withStore(async (store) => {
        const staged = await store.stage(chunks('hello ', 'world'), { maxBytes: 100 });
        assert.equal(staged.digest, sha256Digest('hello world'));
        assert.equal(staged.size, 11);
        assert.equal(await collect(staged.read()), 'hello world');
        assert.equal(await store.stat(staged.digest), undefined);
        assert.equal(await store.read(staged.digest), undefined);
        await staged.commit();
        const s = await store.stat(staged.digest);
        assert.equal(s?.size, 11);
        assert.equal((await readBlob(store, staged.digest))?.toString(), 'hello world');
      }));

    it('reads inclusive byte ranges', () =>
      withStore(async (store) => {
        const staged = await store.stage(chunks('0123456789'), { maxBytes: 100 });
        await staged.commit();
        assert.equal(await collect(await store.read(staged.digest, { start: 2, end: 5 })), '2345');
        assert.equal(await collect(await store.read(staged.digest, { start: 9, end: 9 })), '9');
      }));

    it('refuses more than maxBytes and leaves nothing behind', () =>
      withStore(async (store) => {
        await assert.rejects(
          store.stage(chunks('12345', '67890'), { maxBytes: 7 }),
          (err: unknown) => isBpfleetError(err) && err.code === 'BLOB_TOO_LARGE',
        );
        assert.equal(await store.stat(sha256Digest('1234567890')), undefined);
        assert.equal(await store.sweepStaging(new Date(Date.now() + 60_000)), 0);
      }));

    it('a source that fails mid-way leaves nothing behind', () =>
      withStore(async (store) => {
        async function* broken(): AsyncIterable<Uint8Array> {
          yield Buffer.from('partial');
          throw new Error('connection reset');
        }
        await assert.rejects(store.stage(broken(), { maxBytes: 100 }), /connection reset/);
        assert.equal(await store.sweepStaging(new Date(Date.now() + 60_000)), 0);
        const all: string[] = [];
        for await (const b of store.list()) all.push(b.digest);
        assert.deepEqual(all, []);
      }));

    it('discard drops staged bytes; commit after discard fails', () =>
      withStore(async (store) => {
        const staged = await store.stage(chunks('gone'), { maxBytes: 100 });
        await staged.discard();
        await assert.rejects(staged.commit());
        assert.equal(await store.stat(staged.digest), undefined);
      }));

    it('committing the same content twice is idempotent', () =>
      withStore(async (store) => {
        const a = await store.stage(chunks('same'), { maxBytes: 100 });
        const b = await store.stage(chunks('same'), { maxBytes: 100 });
        await Promise.all([a.commit(), b.commit()]);
        await a.commit();
        const all: string[] = [];
        for await (const s of store.list()) all.push(s.digest);
        assert.deepEqual(all, [sha256Digest('same')]);
      }));

    it('lists and deletes blobs; unknown or malformed digests are absent', () =>
      withStore(async (store) => {
        const staged = await store.stage(chunks('x'), { maxBytes: 10 });
        await staged.commit();
        assert.equal(await store.delete(staged.digest), true);
        assert.equal(await store.delete(staged.digest), false);
        assert.equal(await store.stat('sha256:../../etc/passwd'), undefined);
        assert.equal(await store.read(sha256Digest('nope')), undefined);
      }));

    it('sweepStaging removes only staging leftovers older than the cut-off', () =>
      withStore(async (store) => {
        const pending = await store.stage(chunks('pending'), { maxBytes: 100 });
        assert.equal(await store.sweepStaging(new Date(Date.now() - 60_000)), 0);
        await pending.commit();
        assert.ok(await store.stat(pending.digest));
      }));
  });
}
