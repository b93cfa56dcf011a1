// The one guard every strict parser uses before reading fields of untrusted JSON: a plain object, not an array.

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
