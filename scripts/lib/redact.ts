/**
 * Secrets must never reach results, logs or reports. Known secret values are replaced by their
 * setting name; anything shaped like a JWT/JWE (session tokens, bearer tokens) is replaced too,
 * even when the suite never saw its value (e.g. a session cookie echoed in an error).
 */
const JWT_LIKE =
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;

export type Redactor = (text: string) => string;

export function makeRedactor(secrets: Record<string, string | undefined>): Redactor {
  // Longest first so that a secret containing another is replaced whole.
  const known = Object.entries(secrets)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].length >= 4)
    .sort((a, b) => b[1].length - a[1].length);
  return (text) => {
    let out = text;
    for (const [name, value] of known) out = out.split(value).join(`[redacted:${name}]`);
    return out.replace(JWT_LIKE, '[redacted:jwt]');
  };
}
