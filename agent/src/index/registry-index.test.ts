import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BpfleetError } from '@bpfleet/sdk/errors';
import {
  generateKeyPair,
  INDEX_PAYLOAD_TYPE,
  signChannelStatement,
  signDocument,
  toSigningKey,
} from '@bpfleet/sdk/trust';
import { ChannelMemory } from './channel-memory.js';
import { RegistryIndex } from './registry-index.js';

const registry = generateKeyPair();
const intruder = generateKeyPair();
const keys = [{ keyId: registry.keyId, publicKeyPem: registry.publicKeyPem }];
const d = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
let body = '';
let up = true;
const server = createServer((_req, res) => {
  if (!up) return res.writeHead(503).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
let url = '';

const publisher = generateKeyPair();
const publishers = { acme: [{ keyId: publisher.keyId, publicKeyPem: publisher.publicKeyPem }] };
const moveSerials = new Map<string, number>();

/** A publisher statement about acme/count, by default signed with the trusted publisher key. */
function statement(
  fields: {
    action: 'move' | 'yank' | 'unyank';
    version: string;
    channel?: string;
    serial?: number;
    rollback?: { reason: string };
  },
  key = publisher.privateKeyPem,
): Promise<unknown> {
  const stream = fields.channel ?? fields.version;
  const serial = fields.serial ?? (moveSerials.get(stream) ?? 0) + 1;
  moveSerials.set(stream, Math.max(serial, moveSerials.get(stream) ?? 0));
  return signChannelStatement(
    {
      schema: 'bpfleet.channel-statement/v1',
      package: 'acme/count',
      issuedAt: '2029-01-01T00:00:00Z',
      serial,
      ...fields,
    },
    toSigningKey(key),
  );
}
let channelPart: { channels: Record<string, string>; statements: unknown[] } | undefined;

async function publish(
  serial: number,
  expires = '2030-01-01T00:00:00Z',
  key = registry.privateKeyPem,
): Promise<void> {
  channelPart ??= {
    channels: { stable: '1.1.0', canary: '2.0.0' },
    statements: [
      await statement({ action: 'move', channel: 'stable', version: '1.1.0' }),
      await statement({ action: 'move', channel: 'canary', version: '2.0.0' }),
    ],
  };
  const doc = {
    schema: 'bpfleet.index/v1',
    serial,
    issuedAt: '2029-01-01T00:00:00Z',
    expires,
    namespace: null,
    registryKeyId: registry.keyId,
    packages: {
      'acme/count': {
        versions: {
          '1.0.0': { digest: d(1), size: 10, manifestDigest: d(11), yanked: false },
          '1.1.0': { digest: d(2), size: 20, manifestDigest: d(12), yanked: false },
          '1.2.0': { digest: d(3), size: 30, manifestDigest: d(13), yanked: true },
          '2.0.0': { digest: d(4), size: 40, manifestDigest: d(14), yanked: false },
        },
        ...channelPart,
      },
    },
  };
  body = JSON.stringify(await signDocument(INDEX_PAYLOAD_TYPE, doc, toSigningKey(key)));
}

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const code = (c: string) => (err: unknown) => err instanceof BpfleetError && err.code === c;
let now = new Date('2029-06-01T00:00:00Z');

test('resolves exact versions, ranges (skipping yanked) and channels', async () => {
  await publish(5);
  const seen: number[] = [];
  const index = new RegistryIndex({
    registryUrl: url,
    registryKeys: keys,
    publishers,
    now: () => now,
    onSerial: (s) => seen.push(s),
  });
  assert.equal((await index.resolve('acme/count', { version: '1.0.0' })).digest, d(1));
  assert.equal((await index.resolve('acme/count', { version: '^1' })).version, '1.1.0');
  assert.equal((await index.resolve('acme/count', { channel: 'canary' })).version, '2.0.0');
  assert.equal((await index.resolve('acme/count', { channel: 'stable' })).manifestDigest, d(12));
  await assert.rejects(index.resolve('acme/other', { version: '1' }), code('PACKAGE_NOT_FOUND'));
  await assert.rejects(index.resolve('acme/count', { version: '^3' }), code('VERSION_NOT_FOUND'));
  await assert.rejects(index.resolve('acme/count', { channel: 'beta' }), code('CHANNEL_NOT_FOUND'));
  assert.deepEqual(seen, [5]);
});

test('refuses an index signed by another key, an older serial and an expired one', async () => {
  const index = new RegistryIndex({ registryUrl: url, registryKeys: keys, lastSerial: 7, now: () => now });
  await publish(8, undefined, intruder.privateKeyPem);
  await assert.rejects(index.resolve('acme/count', { version: '1.0.0' }), code('KEY_UNKNOWN'));
  await publish(6);
  await assert.rejects(index.resolve('acme/count', { version: '1.0.0' }), code('INDEX_ROLLBACK'));
  await publish(9, '2029-05-01T00:00:00Z');
  await assert.rejects(index.resolve('acme/count', { version: '1.0.0' }), code('INDEX_EXPIRED'));
});

test('keeps using the last good index while the registry is down, until it expires', async () => {
  await publish(10, '2029-07-01T00:00:00Z');
  const index = new RegistryIndex({ registryUrl: url, registryKeys: keys, publishers, now: () => now });
  await index.resolve('acme/count', { version: '1.0.0' });
  up = false;
  try {
    assert.equal((await index.resolve('acme/count', { channel: 'stable' })).version, '1.1.0');
    now = new Date('2029-08-01T00:00:00Z');
    await assert.rejects(index.resolve('acme/count', { version: '1.0.0' }), code('INDEX_EXPIRED'));
  } finally {
    up = true;
    now = new Date('2029-06-01T00:00:00Z');
  }
});

test("follows a channel only to a trusted publisher's signed move, never back without a signed rollback", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bpfleet-hcc-channels-'));
  try {
    const memoryPath = join(dir, 'channels.json');
    let serial = 100;
    const indexOf = () =>
      new RegistryIndex({
        registryUrl: url,
        registryKeys: keys,
        publishers,
        channels: ChannelMemory.open(memoryPath),
        now: () => now,
      });
    const stable = () => indexOf().resolve('acme/count', { channel: 'stable' });
    const serve = async (channels: Record<string, string>, statements: unknown[]) => {
      channelPart = { channels, statements };
      await publish(++serial);
    };
    const move = (version: string, extra: { serial?: number; rollback?: { reason: string } } = {}) =>
      statement({ action: 'move', channel: 'stable', version, ...extra });

    const signed = await move('2.0.0');
    await serve({ stable: '2.0.0' }, [signed]);
    assert.equal((await stable()).version, '2.0.0');
    // The registry's word alone (a stolen token, a tampered catalog): refused, whatever the index says.
    await serve({ stable: '1.0.0' }, [signed]);
    await assert.rejects(stable(), code('CHANNEL_UNSIGNED'));
    await serve({ stable: '1.0.0' }, []);
    await assert.rejects(stable(), code('CHANNEL_UNSIGNED'));
    const forged = await statement(
      { action: 'move', channel: 'stable', version: '1.0.0' },
      intruder.privateKeyPem,
    );
    await serve({ stable: '1.0.0' }, [forged]);
    await assert.rejects(
      stable(),
      (err: unknown) => code('CHANNEL_UNSIGNED')(err) && /set aside/.test(String(err)),
    );
    // A real publisher move down, without a rollback reason: refused on the device too.
    await serve({ stable: '1.0.0' }, [await move('1.0.0')]);
    await assert.rejects(stable(), code('CHANNEL_DOWNGRADE'));
    const rollback = await move('1.0.0', { rollback: { reason: '2.0.0 drops IPv6' } });
    await serve({ stable: '1.0.0' }, [rollback]);
    assert.equal((await stable()).version, '1.0.0');
    // The first move replayed after the rollback: an older serial than the device followed.
    await serve({ stable: '2.0.0' }, [signed]);
    await assert.rejects(stable(), code('CHANNEL_REPLAY'));
    // A publisher's yank stops the channel's version and hides it from ranges, whatever the registry flag says.
    const up = await move('1.1.0');
    await serve({ stable: '1.1.0' }, [up, await statement({ action: 'yank', version: '1.1.0' })]);
    await assert.rejects(stable(), code('VERSION_YANKED'));
    assert.equal((await indexOf().resolve('acme/count', { version: '^1' })).version, '1.0.0');
    await serve({ stable: '1.1.0' }, [up, await statement({ action: 'unyank', version: '1.1.0' })]);
    assert.equal((await stable()).version, '1.1.0');
  } finally {
    channelPart = undefined;
    await rm(dir, { recursive: true, force: true });
  }
});
