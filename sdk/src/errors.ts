// The one error shape of bpfleet: a typed code, a message that starts with its context, and a cause.

export interface ErrorOptions {
  cause?: unknown;
}

/** Base class of every error bpfleet throws on purpose. `code` is SCREAMING_SNAKE and stable. */
export class BpfleetError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** The plain-data form used in JSON output, HTTP error bodies and MQTT events. */
  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A manifest that does not match the schema; `path` names the field (`programs[0].attach.ifname`). */
export class ManifestError extends BpfleetError {
  readonly path: string;

  constructor(code: string, path: string, message: string, options?: ErrorOptions) {
    super(code, path ? `manifest ${path}: ${message}` : `manifest: ${message}`, options);
    this.path = path;
  }
}

export class ArchiveError extends BpfleetError {}
export class TrustError extends BpfleetError {}
export class PolicyError extends BpfleetError {}
export class ConfigError extends BpfleetError {}
export class RegistryError extends BpfleetError {}
/** A loader failure; `warnings` keeps what libbpf printed during the failing step (bounded), oldest first. */
export class BpfError extends BpfleetError {
  readonly warnings: readonly string[];

  constructor(code: string, message: string, options?: ErrorOptions & { warnings?: readonly string[] }) {
    super(code, message, options);
    this.warnings = options?.warnings ?? [];
  }
}

/** Building a program failed; `output` keeps what the tool (clang) printed, unchanged. */
export class BuildError extends BpfleetError {
  readonly output: string;

  constructor(code: string, message: string, options?: ErrorOptions & { output?: string }) {
    super(code, message, options);
    this.output = options?.output ?? '';
  }
}

/** The kernel or host lacks something a program needs; `reason` says what. */
export class NotSupportedError extends BpfError {}

/** The verifier refused a program: one-line message, the whole log kept in `log`. */
export class VerifierError extends BpfError {
  readonly program: string;
  readonly log: string;

  constructor(
    program: string,
    message: string,
    log: string,
    options?: ErrorOptions & { warnings?: readonly string[] },
  ) {
    super('VERIFIER_REJECTED', message, options);
    this.program = program;
    this.log = log;
  }
}

export function isBpfleetError(value: unknown): value is BpfleetError {
  return value instanceof BpfleetError;
}

/** A message for any thrown value, for the places that must report an unknown failure. */
export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
