import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/config.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors.js';

/** docs/api.md's error table: each code named in a row, with the statuses that row gives. */
async function documentedStatuses() {
  const page = await readFile(path.join(PROJECT_ROOT, 'docs', 'api.md'), 'utf8');
  const section = page.slice(page.indexOf('## Errors'));
  const statuses = new Map<string, Set<number>>();
  for (const row of section.split('\n').filter((line) => line.startsWith('| `'))) {
    const [, codes = '', http = ''] = row.split('|');
    const rowStatuses = [...http.matchAll(/\b\d{3}\b/g)].map((match) => Number(match[0]));
    for (const [, code] of codes.matchAll(/`([A-Z_]+)`/g)) {
      const known = statuses.get(code!) ?? new Set<number>();
      rowStatuses.forEach((status) => known.add(status));
      statuses.set(code!, known);
    }
  }
  return statuses;
}

describe('the error catalogue', () => {
  it('is what docs/api.md documents: every code, and the statuses it gives', async () => {
    const documented = await documentedStatuses();
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE) as [
      ErrorCode,
      { refusal?: number; resolver?: number },
    ][]) {
      const expected = [spec.refusal, spec.resolver].filter((status) => status !== undefined);
      const statuses = [...(documented.get(code) ?? [])];
      // A code with neither only ever travels in a 200 response.
      for (const status of expected.length > 0 ? expected : [200]) {
        expect({ code, statuses }).toEqual({ code, statuses: expect.arrayContaining([status]) });
      }
    }
  });
});
