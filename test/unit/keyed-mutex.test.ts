import { describe, expect, it } from '@jest/globals';
import { createKeyedMutex } from '../../src/lib/keyed-mutex.js';

/** A task that records when it starts and ends, and finishes when the test says so. */
function controlled(log: string[], name: string) {
  let finish: (fail?: boolean) => void = () => undefined;
  const task = () =>
    new Promise<string>((resolve, reject) => {
      log.push(`${name} start`);
      finish = (fail) => {
        log.push(`${name} end`);
        if (fail) reject(new Error(name));
        else resolve(name);
      };
    });
  return { task, finish: (fail?: boolean) => finish(fail) };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('keyed mutex', () => {
  it('runs tasks of one key one at a time in call order, even after a failure', async () => {
    const exclusive = createKeyedMutex();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlled(log, name));
    const results = [a!, b!, c!].map(({ task }) => exclusive('user', task));
    await settled();
    expect(log).toEqual(['a start']);
    a!.finish(true);
    await expect(results[0]).rejects.toThrow('a');
    await settled();
    expect(log).toEqual(['a start', 'a end', 'b start']);
    b!.finish();
    await settled();
    c!.finish();
    expect(await Promise.all(results.slice(1))).toEqual(['b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('lets tasks of different keys run at once', async () => {
    const exclusive = createKeyedMutex();
    const log: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => controlled(log, name));
    const results = [exclusive('one', a!.task), exclusive('two', b!.task)];
    await settled();
    expect(log).toEqual(['a start', 'b start']);
    b!.finish();
    a!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b']);
  });
});
