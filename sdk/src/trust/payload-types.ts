// DSSE payload types, one per kind of signed thing, so that a signature of one kind never passes as another.

/** Packages: an in-toto Statement v1 about the archive (subject) and its manifest (predicate). */
export const PACKAGE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The registry's signed index. */
export const INDEX_PAYLOAD_TYPE = 'application/vnd.bpfleet.index.v1+json';
/** Operator policies (desired state). */
export const POLICY_PAYLOAD_TYPE = 'application/vnd.bpfleet.policy.v1+json';
/** Publisher statements: channel moves, yanks and unyanks. */
export const CHANNEL_PAYLOAD_TYPE = 'application/vnd.bpfleet.channel.v1+json';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PACKAGE_PREDICATE_TYPE = 'https://bpfleet.dev/package/v1';
/** Root documents: the keys of every role, thresholds, version and expiry (several signatures). */
export const ROOT_PAYLOAD_TYPE = 'application/vnd.bpfleet.root.v1+json';
