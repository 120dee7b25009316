const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+)(ms|s|m|h|d)?$/;

/**
 * `900` (seconds), `500ms`, `90s`, `15m`, `1h`, `1d` to milliseconds; undefined if malformed or
 * too large to count exactly (a thousand-digit number would otherwise become Infinity).
 */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number.parseInt(match[1] ?? '', 10) * (UNIT_MS[match[2] ?? 's'] ?? 1000);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
