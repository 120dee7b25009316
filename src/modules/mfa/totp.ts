import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

/** RFC 6238 as every authenticator app expects it: SHA1, 6 digits, 30-second steps. */
const ALGORITHM = 'SHA1';
const DIGITS = 6;
export const PERIOD_SECONDS = 30;
/** A code of the previous or next step still counts: clocks drift and people type slowly. */
const WINDOW = 1;

const totpOf = (secret: string, issuer: string, label: string) =>
  new TOTP({
    issuer,
    label,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });

/** 160 random bits (RFC 4226's recommended length), base32 as apps take it. */
export const newTotpSecret = () => new Secret({ size: 20 }).base32;

export async function enrolmentOf(secret: string, issuer: string, label: string) {
  const uri = totpOf(secret, issuer, label).toString();
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return {
    secret,
    uri,
    qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  };
}

/** A code as people type it: spaces and dashes ignored. Anything longer is not one. */
const MAX_CODE_INPUT = 64;
const cleaned = (code: string) =>
  code.length > MAX_CODE_INPUT ? '' : code.replace(/[\s-]/g, '').toLowerCase();

export const isTotpShaped = (code: string) => /^\d{6}$/.test(cleaned(code));

/** The time step whose code `code` is (within ±1 of now), or undefined. */
export function stepOf(secret: string, code: string, nowMs: number): number | undefined {
  const token = cleaned(code);
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = TOTP.validate({
    token,
    secret: Secret.fromBase32(secret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
    timestamp: nowMs,
    window: WINDOW,
  });
  return delta === null
    ? undefined
    : TOTP.counter({ period: PERIOD_SECONDS, timestamp: nowMs }) + delta;
}

/** Recovery codes: 16 characters of a 32-letter alphabet each (80 bits), in groups of four. */
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const RECOVERY_LENGTH = 16;
export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const letters = Array.from({ length: RECOVERY_LENGTH }, () =>
      RECOVERY_ALPHABET.charAt(randomInt(RECOVERY_ALPHABET.length)),
    ).join('');
    return letters.match(/.{4}/g)!.join('-');
  });
}

/** The recovery code `code` would be, normalized, or undefined if it cannot be one. */
export function recoveryCodeOf(code: string): string | undefined {
  const token = cleaned(code);
  return token.length === RECOVERY_LENGTH && [...token].every((c) => RECOVERY_ALPHABET.includes(c))
    ? token
    : undefined;
}

/**
 * 80 random bits need no slow hash: nobody can search that space, so a fast one keeps the
 * stored value useless without slowing sign-in. The enrolment id makes each set's hashes its own.
 */
export const recoveryHash = (enrolmentId: string, normalizedCode: string) =>
  createHash('sha256').update(`${enrolmentId}\n${normalizedCode}`).digest('base64url');

/** Challenges and enrolment ids: 256 random bits, base64url. */
export const randomToken = () => randomBytes(32).toString('base64url');
export const isRandomTokenShaped = (text: string) => /^[A-Za-z0-9_-]{43}$/.test(text);
export const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
