import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT, SETTINGS } from '../../src/config/config.js';

/** The settings named in the first column of docs/configuration.md's table. */
async function readmeSettings() {
  const page = await readFile(path.join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
  return [...page.matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm)].map((match) => match[1]);
}

describe('configuration documents', () => {
  it('lists every setting the service reads in the documented table, and nothing else', async () => {
    const documented = await readmeSettings();
    expect([...documented].sort()).toEqual([...SETTINGS].sort());
  });

  it('names every setting in .env.example, set or commented out', async () => {
    const example = await readFile(path.join(PROJECT_ROOT, '.env.example'), 'utf8');
    const named = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect(SETTINGS.filter((setting) => !named.has(setting))).toEqual([]);
  });
});
