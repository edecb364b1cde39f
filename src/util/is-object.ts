/** A JSON object (not null, not an array): what parsed documents are checked against. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
