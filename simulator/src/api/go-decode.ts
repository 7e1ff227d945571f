/**
 * Go's json.Decoder into a struct, before validation: a top-level `null` leaves the struct empty,
 * and object keys match field names exactly or case-insensitively (the later key wins), so
 * `{"Model": ...}` is the field `model`, not an unknown one. Keys matching no field stay as they are
 * for the strict schema to refuse (DisallowUnknownFields).
 */
export function goFieldKeys(value: unknown, fields: readonly string[]): unknown {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const name = fields.includes(key) ? key : fields.find((f) => f.toLowerCase() === key.toLowerCase());
    out[name ?? key] = field;
  }
  return out;
}
