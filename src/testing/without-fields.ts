// Comparing state before and after a refused request: fields that move without anyone
// writing (usage counters, stats) are dropped first, at any depth. Each caller names its own.
export function withoutFields(value: unknown, fields: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutFields(v, fields));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!fields.has(k)) out[k] = withoutFields(v, fields);
  return out;
}
