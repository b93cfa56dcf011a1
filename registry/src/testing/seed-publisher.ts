// A publisher key registered for a namespace, signing channel statements with a serial per stream (for tests).
import {
  type ChannelStatement,
  generateKeyPair,
  type SerializedBundle,
  signChannelStatement,
  statementStream,
  toSigningKey,
} from '@bpfleet/sdk/trust';
import type { RegistryFixture } from './registry-fixture.js';

export interface TestPublisher {
  keyId: string;
  /** Signs a statement; `serial` defaults to one above the last this publisher signed for the stream. */
  sign(
    statement: Omit<ChannelStatement, 'schema' | 'serial' | 'issuedAt'> & { serial?: number },
  ): Promise<SerializedBundle>;
}

export async function seedPublisher(fx: RegistryFixture, ns: string): Promise<TestPublisher> {
  const pair = generateKeyPair();
  await fx.catalog.addPublisherKey({
    namespace: ns,
    keyId: pair.keyId,
    publicKeyPem: pair.publicKeyPem,
    addedAt: fx.clock.now().toISOString(),
  });
  const key = toSigningKey(pair.privateKeyPem);
  const serials = new Map<string, number>();
  return {
    keyId: pair.keyId,
    sign(partial) {
      const stream = `${partial.package} ${statementStream(partial)}`;
      const serial = partial.serial ?? (serials.get(stream) ?? 0) + 1;
      serials.set(stream, Math.max(serial, serials.get(stream) ?? 0));
      const statement = {
        ...partial,
        schema: 'bpfleet.channel-statement/v1',
        serial,
        issuedAt: fx.clock.now().toISOString(),
      } as ChannelStatement;
      return signChannelStatement(statement, key);
    },
  };
}
