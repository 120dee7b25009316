import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { parseDurationMs } from '../lib/duration.js';
import type { EffectiveLimit } from '../rate-limit/rules.js';

/** Parsers for one environment value each; config.ts assembles them into the schema. */

/** Accepts `900`, `900s`, `15m`, `1h`, `1d` and returns whole seconds. */
export const durationSeconds = z
  .string()
  .trim()
  .regex(/^\d+[smhd]?$/, 'must be a number of seconds or a duration such as 15m, 1h')
  .transform((value, context) => {
    const ms = parseDurationMs(value);
    if (ms === undefined) {
      context.addIssue({ code: 'custom', message: 'is too large' });
      return z.NEVER;
    }
    return Math.floor(ms / 1000);
  });

export const limitSpec = z
  .string()
  .trim()
  .regex(/^\d+\/\d+(ms|s|m|h|d)?$/, 'must be <max>/<window>, such as 10/1m')
  .transform((value): EffectiveLimit => {
    const [max = '', window = ''] = value.split('/');
    return { max: Number.parseInt(max, 10), windowMs: parseDurationMs(window) ?? 0 };
  })
  .refine(
    (limit) =>
      limit.max >= 1 &&
      Number.isSafeInteger(limit.max) &&
      limit.windowMs >= 1000 &&
      limit.windowMs <= 366 * 86_400_000,
    'needs max >= 1 and a window from 1s to a year',
  );

/** true, false, or empty/absent for "the default for this environment". */
export const optionalFlag = z
  .enum(['true', 'false', ''])
  .optional()
  .transform((value) => (value === '' ? undefined : value));

export const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1');

/** A hop count, or addresses, CIDRs and proxy-addr names (loopback, linklocal, uniquelocal). */
export const trustProxy = z
  .string()
  .trim()
  .optional()
  .transform((value, context): number | string[] | undefined => {
    if (value === undefined || value === '' || value === 'false') return undefined;
    if (/^\d+$/.test(value)) return Number.parseInt(value, 10);
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    try {
      proxyAddr.compile(entries);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
    return entries;
  });

export const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
