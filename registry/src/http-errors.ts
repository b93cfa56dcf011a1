// Maps bpfleet error codes to HTTP statuses and renders the one error body shape: { error: { code, message } }.
import {
  ArchiveError,
  BpfleetError,
  ManifestError,
  PolicyError,
  RegistryError,
  TrustError,
} from '@bpfleet/sdk/errors';

const STATUS_BY_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  INVALID_BODY: 400,
  INVALID_PARAMETER: 400,
  INVALID_BUNDLE: 400,
  NAME_MISMATCH: 400,
  VERSION_MISMATCH: 400,
  NO_PUBLISHER_KEYS: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NAMESPACE_NOT_FOUND: 404,
  PACKAGE_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  BLOB_NOT_FOUND: 404,
  NAMESPACE_EXISTS: 409,
  KEY_EXISTS: 409,
  VERSION_EXISTS: 409,
  VERSION_YANKED: 409,
  STATEMENT_INVALID: 400,
  STATEMENT_MISMATCH: 400,
  YANK_UNSIGNED: 403,
  CHANNEL_DOWNGRADE: 409,
  STATEMENT_STALE: 409,
  LENGTH_REQUIRED: 411,
  BLOB_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  ARCHIVE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  NOT_READY: 503,
  DEVICE_NOT_FOUND: 404,
  DEVICE_EXISTS: 409,
  POLICY_INVALID: 400,
  WAVES_INVALID: 400,
  POLICY_WRONG_FLEET: 400,
  POLICY_SERIAL_NOT_NEWER: 409,
  GROUP_EMPTY: 400,
  ROLLOUT_NOT_FOUND: 404,
  ROLLOUT_ACTIVE: 409,
  ROLLOUT_NOT_RUNNING: 409,
  ROLLOUT_NOT_PAUSED: 409,
  ROLLOUT_FINISHED: 409,
  ROLLOUT_NO_GROUP_POLICY: 409,
  // mosquitto's dynamic-security plugin refused or did not answer a login change.
  DYNSEC_REFUSED: 502,
  DYNSEC_TIMEOUT: 504,
  // An external broker whose logins the edge does not manage: it cannot disable a device there.
  BROKER_UNMANAGED: 409,
};

/** An error a route throws on purpose; its code decides the status. */
export function httpError(code: string, message: string, cause?: unknown): RegistryError {
  return new RegistryError(code, message, cause === undefined ? undefined : { cause });
}

// A full disk (blob directory or SQLite file): the client can retry once the operator frees space.
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** True when `err` or one of its causes says the disk is full. */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && STORAGE_FULL_CODES.has(code)) return true;
  }
  return false;
}

export function statusOf(err: unknown): number {
  if (isStorageFull(err)) return 507;
  if (!(err instanceof BpfleetError)) return 500;
  const status = STATUS_BY_CODE[err.code];
  if (status !== undefined) return status;
  // Anything wrong with what the client uploaded is the client's to fix.
  if (
    err instanceof ArchiveError ||
    err instanceof ManifestError ||
    err instanceof TrustError ||
    err instanceof PolicyError
  )
    return 400;
  return 500;
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export function errorResponse(err: unknown): Response {
  const status = statusOf(err);
  if (status === 507) {
    return new Response(
      errorBody('STORAGE_FULL', 'storage full: the edge cannot write to its data directory'),
      {
        status,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      },
    );
  }
  const code = status === 500 ? 'INTERNAL' : (err as BpfleetError).code;
  const message = status === 500 ? 'internal error' : (err as BpfleetError).message;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  // RFC 6750: a 401 names the scheme the client should use (and, for a token it sent, that it was refused).
  if (status === 401)
    headers['www-authenticate'] =
      code === 'UNAUTHORIZED' && /unknown|revoked/.test(message)
        ? 'Bearer realm="bpfleet", error="invalid_token"'
        : 'Bearer realm="bpfleet"';
  return new Response(errorBody(code, message), { status, headers });
}
