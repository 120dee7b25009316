/** RFC 5321 limits a forward path to 254 characters. */
export const MAX_EMAIL_LENGTH = 254;
/**
 * Raw input longer than this is refused before any other work: NFKC can lengthen text many
 * times over, and no valid address needs more room than this for surrounding spaces.
 */
export const MAX_EMAIL_INPUT_LENGTH = 320;
/**
 * RFC 5321 dot-atom local part (letters, digits and !#$%&'*+-/=?^_`{|}~, dots only between them)
 * and a host name of two or more labels (letters, digits, inner hyphens; 63 characters at most),
 * letters and digits in any script as RFC 6531 allows (accounts with such addresses exist).
 * Nothing else: a comma, angle bracket, colon, semicolon, parenthesis or quote would let a mail
 * library read one stored address as a list of several, or one mailbox as many accounts.
 */
const WORD = '\\p{L}\\p{M}\\p{N}';
const LOCAL_PART = `[${WORD}!#$%&'*+/=?^_\`{|}~-]+(?:\\.[${WORD}!#$%&'*+/=?^_\`{|}~-]+)*`;
const LABEL = `[${WORD}](?:[${WORD}-]{0,61}[${WORD}])?`;
const EMAIL_SHAPE = new RegExp(`^${LOCAL_PART}@(?:${LABEL}\\.)+${LABEL}$`, 'u');
/**
 * Control characters (NUL, CR, LF …) and format characters (zero-width spaces and joiners, bidi
 * overrides): invisible, so two addresses that look alike would be different accounts.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/**
 * What must hold of the raw input before it is normalized or looked up. Lone surrogates are
 * refused because storage turns each into U+FFFD, so different inputs would reach one account.
 */
export const isAcceptableEmailInput = (email: string) =>
  email.length <= MAX_EMAIL_INPUT_LENGTH && email.isWellFormed() && !INVISIBLE.test(email);

/** One spelling per mailbox, so the unique index sees "A@x.io " and "a@x.io" as the same user. */
export const normalizeEmail = (email: string) => email.trim().normalize('NFKC').toLowerCase();

export const isValidEmail = (normalized: string) =>
  normalized.length <= MAX_EMAIL_LENGTH &&
  !INVISIBLE.test(normalized) &&
  EMAIL_SHAPE.test(normalized);

/**
 * Whether the domain has an IDNA A-label (`xn--…`, Punycode). Mail libraries deliver
 * `x@xn--b-eha.example` and `x@bü.example` to one mailbox, yet the two spellings differ, so they
 * would be two accounts. New addresses must use the Unicode form; stored ones still look up as
 * they were written.
 */
export const hasPunycodeDomain = (normalized: string) =>
  normalized
    .slice(normalized.lastIndexOf('@') + 1)
    .split('.')
    .some((label) => label.toLowerCase().startsWith('xn--'));
