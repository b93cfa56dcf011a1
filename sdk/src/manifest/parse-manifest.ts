// parseManifest: bytes, text or a parsed value → a checked Manifest, or a ManifestError naming the field.
import semver from 'semver';
import { ManifestError } from '../errors.js';
import { parseConfigSection } from './config-vars.js';
import { DESCRIPTION, describe, FieldReader } from './field-reader.js';
import { parseGlobals } from './globals-decl.js';
import { assertGplCompatible, LICENSE_PATTERN } from './license.js';
import { parseMapsSection } from './map-decls.js';
import { isValidPackageName } from './package-name.js';
import { parsePrograms } from './programs.js';
import { parseRequires } from './requires.js';
import type { Manifest } from './types.js';
import { MANIFEST_LIMITS } from './types.js';

export interface ParseManifestOptions {
  /**
   * The object calls GPL-only helpers (the build tool knows from the object): the license must then be one
   * the kernel treats as GPL-compatible, else LICENSE_NOT_GPL_COMPATIBLE.
   */
  gplOnlyHelpers?: boolean;
}

const MANIFEST_FIELDS = {
  required: ['name', 'version', 'license', 'programs', 'requires'],
  optional: ['description', 'config', 'maps', 'globals'],
} as const;

function toJson(input: unknown): unknown {
  let text: string;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > MANIFEST_LIMITS.maxBytes) throw tooLarge(Buffer.byteLength(input));
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > MANIFEST_LIMITS.maxBytes) throw tooLarge(input.byteLength);
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch (err) {
      throw new ManifestError('INVALID_JSON', '', 'not valid UTF-8', { cause: err });
    }
  } else {
    return input;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ManifestError('INVALID_JSON', '', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function tooLarge(bytes: number): ManifestError {
  return new ManifestError('TOO_LARGE', '', `${bytes} bytes, at most ${MANIFEST_LIMITS.maxBytes} allowed`);
}

export function parseManifest(
  input: string | Uint8Array | unknown,
  options: ParseManifestOptions = {},
): Manifest {
  const reader = new FieldReader(toJson(input), '', MANIFEST_FIELDS);
  const name = reader.get('name');
  if (typeof name !== 'string')
    throw new ManifestError('FIELD_TYPE', 'name', `expected a string, got ${describe(name)}`);
  if (!isValidPackageName(name)) {
    throw new ManifestError(
      'INVALID_NAME',
      'name',
      `expected namespace/name, each part 1-64 of a-z, 0-9 and -, starting with a letter; got ${describe(name)}`,
    );
  }
  const version = reader.string('version', { max: 128 });
  if (semver.valid(version) !== version) {
    throw new ManifestError(
      'INVALID_VERSION',
      'version',
      `expected a semantic version like 1.2.3, got ${describe(version)}`,
    );
  }
  const license = reader.string('license', {
    max: MANIFEST_LIMITS.maxLicense,
    pattern: LICENSE_PATTERN,
    expected: 'the printable ASCII string of the object license section',
    code: 'INVALID_LICENSE',
  });
  if (options.gplOnlyHelpers) assertGplCompatible(license);
  const manifest: Manifest = {
    name,
    version,
    license,
    programs: parsePrograms(reader.get('programs'), 'programs'),
    requires: parseRequires(reader.get('requires'), 'requires'),
  };
  if (reader.has('description')) manifest.description = reader.string('description', DESCRIPTION);
  if (reader.has('config')) manifest.config = parseConfigSection(reader.get('config'), 'config');
  if (reader.has('maps')) manifest.maps = parseMapsSection(reader.get('maps'), 'maps');
  if (reader.has('globals')) {
    manifest.globals = parseGlobals(reader.get('globals'), 'globals');
    const names = new Set(
      Object.values(manifest.maps ?? {}).flatMap((m) => (m.metrics ?? []).map((x) => x.name)),
    );
    manifest.globals.metrics.forEach((metric, i) => {
      if (names.has(metric.name))
        throw new ManifestError(
          'DUPLICATE',
          `globals.metrics[${i}].name`,
          `metric ${metric.name} is declared twice`,
        );
    });
  }
  return manifest;
}
