import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../src/db/mongo.js';
import {
  SequenceLogs,
  createSequenceLogModel,
  type LogEntry,
  type SequenceLogModel,
  type Visit,
} from '../../src/db/sequence-log.js';
import { freshDatabaseUri } from '../helpers/database.js';

let connection: Connection;
let model: SequenceLogModel;

beforeAll(async () => {
  connection = await connectMongo(freshDatabaseUri('sequence_log'));
  model = createSequenceLogModel(connection, 'logs');
});
afterAll(() => connection.close());

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('sequence logs', () => {
  it('numbers concurrent appends from two processes densely, each number once', async () => {
    // Two instances stand for two replicas: neither knows the numbers the other takes.
    const [first, second] = [new SequenceLogs(model), new SequenceLogs(model)];
    const seqs = await Promise.all(
      range(0, 40).map((i) => (i % 2 === 0 ? first : second).append('race', `ref-${i}`)),
    );
    expect([...seqs].sort((a, b) => a - b)).toEqual(range(0, 40));
    expect(await new SequenceLogs(model).end('race')).toBe(40);
  });

  it("keeps the order of one process's concurrent appends", async () => {
    const logs = new SequenceLogs(model);
    const seqs = await Promise.all(range(0, 20).map((i) => logs.append('ordered', `ref-${i}`)));
    expect(seqs).toEqual(range(0, 20));
  });

  it('finds the end from a stale head hint', async () => {
    const logs = new SequenceLogs(model);
    for (const i of range(0, 37)) await logs.append('stale', `ref-${i}`);
    await model.updateOne({ _id: 'stale#head' }, { $set: { next: 3 } });
    expect(await new SequenceLogs(model).end('stale')).toBe(37);
    await model.deleteOne({ _id: 'stale#head' });
    expect(await new SequenceLogs(model).end('stale')).toBe(37);
    expect(await new SequenceLogs(model).end('never-written')).toBe(0);
  });

  it('pages newest first below a number', async () => {
    const logs = new SequenceLogs(model);
    for (const i of range(0, 10)) await logs.append('pages', `ref-${i}`);
    expect((await logs.newest('pages', 3)).map((entry) => entry.ref)).toEqual([
      'ref-9',
      'ref-8',
      'ref-7',
    ]);
    expect((await logs.newest('pages', 3, 2)).map((entry) => entry.seq)).toEqual([1, 0]);
    expect(await logs.newest('pages', 3, 0)).toEqual([]);
    expect((await logs.oldest('pages', 3, 6)).map((entry) => entry.ref)).toEqual([
      'ref-7',
      'ref-8',
      'ref-9',
    ]);
    expect(await logs.oldest('pages', 3, 9)).toEqual([]);
  });

  it('trims from the oldest end and goes on from there', async () => {
    const logs = new SequenceLogs(model);
    for (const i of range(0, 10)) await logs.append('trim', `ref-${i}`);
    const oldest = await logs.oldest('trim', 4);
    expect(oldest.map((entry) => entry.seq)).toEqual([0, 1, 2, 3]);
    await logs.trim('trim', oldest);
    expect(await logs.start('trim')).toBe(4);
    expect(await model.findById('trim#0').lean()).toBeNull();
    expect((await logs.oldest('trim', 4)).map((entry) => entry.seq)).toEqual([4, 5, 6, 7]);
    expect((await logs.newest('trim', 20)).map((entry) => entry.seq)).toEqual(
      range(4, 10).reverse(),
    );
    expect(await logs.end('trim')).toBe(10);
    expect(await logs.append('trim', 'ref-10')).toBe(10);
  });

  it('skips entries trimmed under a tail whose raise was lost, and stops at the end', async () => {
    const logs = new SequenceLogs(model);
    for (const i of range(0, 6)) await logs.append('lost-tail', `ref-${i}`);
    await logs.trim('lost-tail', await logs.oldest('lost-tail', 3));
    await model.updateOne({ _id: 'lost-tail#tail' }, { $set: { next: 0 } });
    expect((await logs.oldest('lost-tail', 10)).map((entry) => entry.seq)).toEqual([3, 4, 5]);
  });

  describe('walk', () => {
    const keepEven = async (entry: LogEntry): Promise<Visit<string>> =>
      entry.seq % 2 === 0 ? { keep: entry.ref } : 'skip';
    let logs: SequenceLogs;
    beforeAll(async () => {
      logs = new SequenceLogs(model);
      for (const i of range(0, 20)) await logs.append('walk', `ref-${i}`);
    });
    const walk = (
      options: { first: number; from?: number; newestFirst?: boolean; budget?: number },
      visit = keepEven,
    ) =>
      logs.walk(
        'walk',
        { newestFirst: false, chunk: 4, ...options, budget: { remaining: options.budget ?? 1000 } },
        visit,
      );

    it('keeps what visit keeps, up to first, and knows the log goes on', async () => {
      expect(await walk({ first: 3 })).toEqual({
        found: [0, 2, 4].map((seq) => ({ seq, doc: `ref-${seq}` })),
        stoppedAt: 4,
        more: true,
      });
      expect(await walk({ first: 3, from: 13, newestFirst: true })).toEqual({
        found: [12, 10, 8].map((seq) => ({ seq, doc: `ref-${seq}` })),
        stoppedAt: 8,
        more: true,
      });
    });

    it('says the log ended only when it did, even on a page filled by its last entry', async () => {
      expect(await walk({ first: 1, from: 17 })).toMatchObject({ stoppedAt: 18, more: true });
      expect(await walk({ first: 2, from: 17 })).toMatchObject({ stoppedAt: 19, more: false });
      expect(await walk({ first: 1, from: 1, newestFirst: true })).toMatchObject({
        found: [{ seq: 0 }],
        more: false,
      });
      expect(await walk({ first: 5, from: 19 })).toEqual({ found: [], stoppedAt: 19, more: false });
    });

    it('visits at most budget entries and stops where the budget ran out', async () => {
      const visited: number[] = [];
      const none = async (entry: LogEntry): Promise<Visit<string>> => {
        visited.push(entry.seq);
        return 'skip';
      };
      expect(await walk({ first: 2, budget: 7 }, none)).toEqual({
        found: [],
        stoppedAt: 6,
        more: true,
      });
      expect(visited).toEqual(range(0, 7));
      expect(await walk({ first: 2, from: 6, budget: 7 }, none)).toMatchObject({
        stoppedAt: 13,
        more: true,
      });
      expect(await walk({ first: 2, from: 13, budget: 7 }, none)).toMatchObject({
        stoppedAt: 19,
        more: false,
      });
    });

    it('shares one budget between walks running at once, never visiting more in all', async () => {
      let visits = 0;
      const none = async (): Promise<Visit<string>> => {
        visits += 1;
        return 'skip';
      };
      const budget = { remaining: 9 };
      const options = { first: 1, newestFirst: false, budget, chunk: 4 };
      const walks = await Promise.all([
        logs.walk('walk', options, none),
        logs.walk('walk', options, none),
      ]);
      expect(visits).toBe(9);
      expect(budget.remaining).toBe(0);
      expect(walks.every((walk) => walk.more && walk.found.length === 0)).toBe(true);
      expect(walks.map((walk) => (walk.stoppedAt ?? -1) + 1).reduce((a, b) => a + b)).toBe(9);
      expect(await logs.walk('walk', options, none)).toEqual({
        found: [],
        stoppedAt: undefined,
        more: true,
      });
    });

    it('stops before an entry visit says to wait at, with what it kept so far', async () => {
      const waitAtSeven = async (entry: LogEntry): Promise<Visit<string>> =>
        entry.seq === 7 ? 'stop' : { keep: entry.ref };
      expect(await walk({ first: 5, from: 3 }, waitAtSeven)).toEqual({
        found: [4, 5, 6].map((seq) => ({ seq, doc: `ref-${seq}` })),
        stoppedAt: 6,
        more: true,
      });
      expect(await walk({ first: 5, from: 6 }, waitAtSeven)).toEqual({
        found: [],
        stoppedAt: 6,
        more: true,
      });
    });
  });
});
