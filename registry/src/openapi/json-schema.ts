// The JSON Schema subset route specs use: it validates request bodies and parameters and is printed into OpenAPI.
export type JsonSchema =
  | {
      type: 'object';
      description?: string;
      properties: Record<string, JsonSchema>;
      required?: readonly string[];
      additionalProperties?: boolean | JsonSchema;
    }
  | { type: 'array'; description?: string; items: JsonSchema }
  | {
      type: 'string';
      description?: string;
      pattern?: string;
      minLength?: number;
      maxLength?: number;
      enum?: readonly string[];
      format?: string;
    }
  | { type: 'integer' | 'number'; description?: string; minimum?: number; maximum?: number }
  | { type: 'boolean'; description?: string }
  | { type: 'null'; description?: string }
  | { anyOf: readonly JsonSchema[]; description?: string }
  | { $ref: string; description?: string };

const compiled = new Map<string, RegExp>();

function regexOf(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    compiled.set(pattern, re);
  }
  return re;
}

/** Checks `value` against `schema`; returns the first problem as `path: reason`, or undefined. */
export function validate(schema: JsonSchema, value: unknown, path: string): string | undefined {
  if ('$ref' in schema) return undefined;
  if ('anyOf' in schema) {
    const problems = schema.anyOf.map((s) => validate(s, value, path));
    return problems.includes(undefined) ? undefined : problems[0];
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return `${path}: expected an object`;
      const obj = value as Record<string, unknown>;
      for (const key of schema.required ?? []) {
        if (obj[key] === undefined) return `${path}.${key}: required`;
      }
      for (const [key, v] of Object.entries(obj)) {
        const prop = schema.properties[key];
        if (prop) {
          const problem = validate(prop, v, `${path}.${key}`);
          if (problem) return problem;
        } else if (schema.additionalProperties === false) {
          return `${path}.${key}: unknown field`;
        } else if (typeof schema.additionalProperties === 'object') {
          const problem = validate(schema.additionalProperties, v, `${path}.${key}`);
          if (problem) return problem;
        }
      }
      return undefined;
    }
    case 'array': {
      if (!Array.isArray(value)) return `${path}: expected an array`;
      for (let i = 0; i < value.length; i++) {
        const problem = validate(schema.items, value[i], `${path}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'string': {
      if (typeof value !== 'string') return `${path}: expected a string`;
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        return `${path}: shorter than ${schema.minLength} characters`;
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        return `${path}: longer than ${schema.maxLength} characters`;
      }
      if (schema.pattern !== undefined && !regexOf(schema.pattern).test(value)) {
        return `${path}: must match ${schema.pattern}`;
      }
      if (schema.enum && !schema.enum.includes(value))
        return `${path}: must be one of ${schema.enum.join(', ')}`;
      return undefined;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${path}: expected a number`;
      if (schema.type === 'integer' && !Number.isInteger(value)) return `${path}: expected an integer`;
      if (schema.minimum !== undefined && value < schema.minimum) return `${path}: below ${schema.minimum}`;
      if (schema.maximum !== undefined && value > schema.maximum) return `${path}: above ${schema.maximum}`;
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${path}: expected true or false`;
    case 'null':
      return value === null ? undefined : `${path}: expected null`;
  }
}
