// registry-client: talk to a bpfleet registry (not imported by the agent's light subpaths).

export { type ConnectFlags, connectRegistry } from './connect.js';
export type { CredentialsFile, RegistryCredentials, ResolvedRegistry } from './credentials.js';
export { credentialsPath, readCredentials, resolveRegistry, writeCredentials } from './credentials.js';
export * from './fleet-client.js';
export { type PackageRef, parsePackageRef } from './package-ref.js';
export {
  createRegistryClient,
  type PackageQuery,
  type PublishInput,
  RegistryClient,
  type RegistryClientOptions,
} from './registry-client.js';
export {
  type ChannelChange,
  moveChannel,
  setYankSigned,
  signChannelChange,
} from './signed-channels.js';
export { type SignedSubject, signedSubject } from './signed-subject.js';
export type * from './types.js';
