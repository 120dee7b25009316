/** RFC 5321 limits a forward path to 254 characters. */
const MAX_EMAIL_LENGTH = 254;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/u;

/** One spelling per mailbox, so the unique index sees "A@x.io " and "a@x.io" as the same user. */
export const normalizeEmail = (email: string) => email.trim().normalize('NFKC').toLowerCase();

export const isValidEmail = (normalized: string) =>
  normalized.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(normalized);
