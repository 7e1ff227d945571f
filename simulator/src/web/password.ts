import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

// The stored hash only has to be real, not slow: bcrypt's CPU cost is modelled by the CPU queue,
// so the simulator never steals CPU from a load generator on the same machine.
const SCRYPT = { N: 16, r: 1, p: 1 } as const;
const KEY_LENGTH = 32;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEY_LENGTH, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, 'base64url');
  const actual = scryptSync(password, Buffer.from(saltText, 'base64url'), expected.length, SCRYPT);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
