// Schemas shared by route specs: names, versions, digests and the JSON shapes the API returns.
import type { JsonSchema } from '../openapi/json-schema.js';

export const namespaceParam = {
  type: 'string',
  pattern: '^[a-z](?:[a-z0-9-]{0,62}[a-z0-9])?$',
  description: 'Namespace (lower-case letters, digits, dashes; starts with a letter)',
} as const satisfies JsonSchema;

export const nameParam = {
  type: 'string',
  pattern: '^[a-z][a-z0-9-]{0,63}$',
  description: 'Package name within its namespace',
} as const satisfies JsonSchema;

export const versionParam = {
  type: 'string',
  pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$',
  maxLength: 128,
  description: 'Semantic version',
} as const satisfies JsonSchema;

export const channelParam = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9._-]{0,31}$',
  description: 'Channel name (stable, canary, …)',
} as const satisfies JsonSchema;

export const digestParam = {
  type: 'string',
  pattern: '^sha256:[0-9a-f]{64}$',
  description: 'Content digest',
} as const satisfies JsonSchema;

const str = (description: string): JsonSchema => ({ type: 'string', description });

export const versionSchema: JsonSchema = {
  type: 'object',
  required: ['package', 'version', 'digest', 'size', 'manifestDigest', 'publishedAt', 'yanked'],
  properties: {
    package: str('namespace/name'),
    version: str('Semantic version'),
    digest: digestParam,
    size: { type: 'integer', description: 'Archive size in bytes' },
    manifestDigest: digestParam,
    description: str('From the manifest'),
    license: str('From the manifest'),
    publishedAt: { type: 'string', format: 'date-time' },
    yanked: { type: 'boolean' },
    yankReason: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
};

export const packageProperties: Record<string, JsonSchema> = {
  package: str('namespace/name'),
  namespace: str('Namespace'),
  name: str('Name'),
  description: str('Description of the latest version'),
  latest: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'Highest non-yanked release' },
  versions: { type: 'integer', description: 'How many versions exist' },
  updatedAt: { type: 'string', format: 'date-time' },
};

export const packageSchema: JsonSchema = {
  type: 'object',
  required: ['package', 'namespace', 'name', 'latest', 'versions'],
  properties: packageProperties,
};

export const channelsSchema: JsonSchema = {
  type: 'object',
  description: 'Channel name to version',
  properties: {},
  additionalProperties: { type: 'string' },
};

export const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
