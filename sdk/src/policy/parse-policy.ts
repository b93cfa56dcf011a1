// Parses a policy from YAML or JSON text, or checks a plain value, with a precise error code and field path.
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { type EntryBudget, newEntryBudget, toPolicyMaps } from './parse-map-entries.js';
import {
  type ConfigInput,
  POLICY_API_VERSION,
  POLICY_KIND,
  POLICY_MAX_ALLOWANCES,
  POLICY_MAX_GRANTS,
  POLICY_ON_EXPIRY,
  type Policy,
  type PolicyAllowance,
  type PolicyAttach,
  type PolicyOnExpiry,
  type PolicyProgram,
  type PolicyTarget,
} from './policy.js';
import { PolicyFieldError } from './policy-error.js';
import { toTargetSelector } from './target-selector.js';

// Names end up in MQTT topics and bpffs paths, so they exclude `/`, `+`, `#`, whitespace and `..`.
const TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DEPLOYMENT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}\/[a-z0-9][a-z0-9_-]{0,63}$/;
const CHANNEL = /^[a-z][a-z0-9-]{0,31}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$/;
const MODE = /^[a-z][a-z0-9-]{0,31}$/;
const CONFIG_VAR = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

type Obj = Record<string, unknown>;

/** Parses YAML or JSON (JSON is YAML) and validates it; throws PolicyFieldError. */
export function parsePolicy(text: string): Policy {
  let value: unknown;
  try {
    value = parseYaml(text, { uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new PolicyFieldError('PARSE_FAILED', '', `not valid YAML or JSON: ${reason}`, { cause: err });
  }
  return toPolicy(value);
}

/** Validates an already-decoded value; unknown fields are rejected. */
export function toPolicy(value: unknown): Policy {
  const doc = object(value, '');
  only(doc, '', [
    'apiVersion',
    'kind',
    'serial',
    'expires',
    'onExpiry',
    'target',
    'fleet',
    'programs',
    'allow',
    'grants',
  ]);
  if (required(doc, 'apiVersion', '') !== POLICY_API_VERSION) {
    fail('UNSUPPORTED_API_VERSION', 'apiVersion', `expected "${POLICY_API_VERSION}"`);
  }
  if (required(doc, 'kind', '') !== POLICY_KIND) fail('INVALID_VALUE', 'kind', `expected "${POLICY_KIND}"`);
  const serial = required(doc, 'serial', '');
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0) {
    fail('INVALID_TYPE', 'serial', 'expected a non-negative integer');
  }
  const expires = string(required(doc, 'expires', ''), 'expires');
  if (!RFC3339.test(expires) || Number.isNaN(Date.parse(expires))) {
    fail('INVALID_VALUE', 'expires', `expected an RFC 3339 time, got ${JSON.stringify(expires)}`);
  }
  if (doc.onExpiry !== undefined && !POLICY_ON_EXPIRY.includes(doc.onExpiry as PolicyOnExpiry)) {
    fail('INVALID_VALUE', 'onExpiry', `expected "keep" or "remove", got ${JSON.stringify(doc.onExpiry)}`);
  }
  const programsValue = required(doc, 'programs', '');
  if (!Array.isArray(programsValue)) fail('INVALID_TYPE', 'programs', 'expected a list');
  const budget = newEntryBudget();
  const programs = programsValue.map((p, i) => toProgram(p, `programs[${i}]`, budget));
  const seen = new Set<string>();
  programs.forEach((p, i) => {
    if (seen.has(p.id)) fail('DUPLICATE_ID', `programs[${i}].id`, `"${p.id}" is used twice`);
    seen.add(p.id);
  });
  return {
    apiVersion: POLICY_API_VERSION,
    kind: POLICY_KIND,
    serial,
    expires,
    // Only when written: a policy signed before the field existed reads back byte for byte.
    ...(doc.onExpiry !== undefined && { onExpiry: doc.onExpiry as PolicyOnExpiry }),
    target: toTarget(required(doc, 'target', '')),
    fleet: pattern(required(doc, 'fleet', ''), 'fleet', TOPIC_NAME, 'a fleet name'),
    programs,
    ...(doc.allow !== undefined && { allow: toAllowances(doc.allow) }),
    ...(doc.grants !== undefined && { grants: toGrants(doc.grants) }),
  };
}

function toAllowances(value: unknown): PolicyAllowance[] {
  if (!Array.isArray(value)) fail('INVALID_TYPE', 'allow', 'expected a list');
  if (value.length > POLICY_MAX_ALLOWANCES) {
    fail('INVALID_VALUE', 'allow', `at most ${POLICY_MAX_ALLOWANCES} allowances, got ${value.length}`);
  }
  return value.map((item, i) => {
    const path = `allow[${i}]`;
    const a = object(item, path);
    only(a, path, ['package', 'versions']);
    const versions = string(required(a, 'versions', path), `${path}.versions`).trim();
    if (!semver.validRange(versions)) {
      fail('INVALID_VALUE', `${path}.versions`, `not a semver range: ${JSON.stringify(versions)}`);
    }
    return {
      package: pattern(required(a, 'package', path), `${path}.package`, PACKAGE_NAME, '"namespace/name"'),
      versions,
    };
  });
}

/** Kept as received: each is a signed bundle the receiver verifies itself. */
function toGrants(value: unknown): unknown[] {
  if (!Array.isArray(value)) fail('INVALID_TYPE', 'grants', 'expected a list');
  if (value.length === 0 || value.length > POLICY_MAX_GRANTS) {
    fail(
      'INVALID_VALUE',
      'grants',
      `expected 1 to ${POLICY_MAX_GRANTS} signed policies, got ${value.length}`,
    );
  }
  return value.map((g, i) => object(g, `grants[${i}]`));
}

function toTarget(value: unknown): PolicyTarget {
  const target = object(value, 'target');
  only(target, 'target', ['device', 'group', 'where']);
  if ('device' in target === 'group' in target)
    fail('INVALID_TARGET', 'target', 'expected exactly one of "device" or "group"');
  // Only when written: a policy signed before the field existed reads back byte for byte.
  const where = target.where !== undefined && { where: toTargetSelector(target.where, 'target.where') };
  if ('device' in target)
    return { device: pattern(target.device, 'target.device', TOPIC_NAME, 'a device id'), ...where };
  return { group: pattern(target.group, 'target.group', TOPIC_NAME, 'a group name'), ...where };
}

function toProgram(value: unknown, path: string, budget: EntryBudget): PolicyProgram {
  const p = object(value, path);
  only(p, path, ['id', 'package', 'version', 'channel', 'attach', 'config', 'maps']);
  const program: PolicyProgram = {
    id: pattern(required(p, 'id', path), `${path}.id`, DEPLOYMENT_ID, 'a deployment id ([a-z0-9_-], 63 max)'),
    package: pattern(required(p, 'package', path), `${path}.package`, PACKAGE_NAME, '"namespace/name"'),
  };
  const hasVersion = p.version !== undefined;
  const hasChannel = p.channel !== undefined;
  if (hasVersion === hasChannel) {
    fail('VERSION_OR_CHANNEL', path, 'set exactly one of "version" (exact or semver range) and "channel"');
  }
  if (hasVersion) {
    const version = string(p.version, `${path}.version`).trim();
    if (!semver.valid(version) && !semver.validRange(version)) {
      fail('INVALID_VALUE', `${path}.version`, `not a version or semver range: ${JSON.stringify(version)}`);
    }
    program.version = version;
  } else {
    program.channel = pattern(p.channel, `${path}.channel`, CHANNEL, 'a channel name');
  }
  if (p.attach !== undefined) program.attach = toAttach(p.attach, `${path}.attach`);
  if (p.config !== undefined) program.config = toConfig(p.config, `${path}.config`);
  if (p.maps !== undefined) program.maps = toPolicyMaps(p.maps, `${path}.maps`, budget);
  return program;
}

function toAttach(value: unknown, path: string): PolicyAttach {
  const a = object(value, path);
  only(a, path, ['interface', 'direction', 'cgroup', 'mode']);
  const attach: PolicyAttach = {};
  if (a.interface !== undefined) {
    attach.interface = pattern(a.interface, `${path}.interface`, IFNAME, 'an interface name (15 chars max)');
  }
  if (a.direction !== undefined) {
    if (a.direction !== 'ingress' && a.direction !== 'egress') {
      fail('INVALID_VALUE', `${path}.direction`, 'expected "ingress" or "egress"');
    }
    attach.direction = a.direction;
  }
  if (a.cgroup !== undefined) {
    const cgroup = string(a.cgroup, `${path}.cgroup`);
    if (!cgroup.startsWith('/') || cgroup.split('/').includes('..') || cgroup.includes('\0')) {
      fail('INVALID_VALUE', `${path}.cgroup`, 'expected an absolute cgroup path without ".."');
    }
    attach.cgroup = cgroup;
  }
  if (a.mode !== undefined) attach.mode = pattern(a.mode, `${path}.mode`, MODE, 'an attach mode');
  return attach;
}

function toConfig(value: unknown, path: string): Record<string, ConfigInput> {
  const c = object(value, path);
  const config: Record<string, ConfigInput> = {};
  for (const [key, v] of Object.entries(c)) {
    if (!CONFIG_VAR.test(key)) fail('INVALID_VALUE', `${path}.${key}`, 'not a C identifier');
    if (Array.isArray(v)) {
      config[key] = v.map((item, i) => scalar(item, `${path}.${key}[${i}]`));
    } else {
      config[key] = scalar(v, `${path}.${key}`);
    }
  }
  return config;
}

function scalar(value: unknown, path: string): string | number | boolean {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  // -0 is written as 0 in JSON: keep the canonical 0 so a policy reads back exactly as it was signed.
  if (typeof value === 'number' && Number.isFinite(value)) return Object.is(value, -0) ? 0 : value;
  return fail('INVALID_TYPE', path, 'expected a string, a finite number or a boolean');
}

function object(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('INVALID_TYPE', path, 'expected an object');
  }
  return value as Obj;
}

function only(value: Obj, path: string, allowed: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail('UNKNOWN_FIELD', join(path, key), 'unknown field');
  }
}

function required(value: Obj, key: string, path: string): unknown {
  if (value[key] === undefined || value[key] === null) fail('MISSING_FIELD', join(path, key), 'is required');
  return value[key];
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail('INVALID_TYPE', path, 'expected a string');
  return value;
}

function pattern(value: unknown, path: string, re: RegExp, what: string): string {
  const s = string(value, path);
  if (!re.test(s)) fail('INVALID_VALUE', path, `expected ${what}, got ${JSON.stringify(s)}`);
  return s;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function fail(code: string, path: string, message: string): never {
  throw new PolicyFieldError(code, path, message);
}
