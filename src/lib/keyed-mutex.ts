/**
 * Runs tasks one at a time per key, in call order, in this process: for read-modify-write
 * sequences on one document that the embedded FerretDB does not isolate (two racing updates of
 * one document can lose one). A key with nothing queued holds no memory.
 */
export function createKeyedMutex() {
  const tails = new Map<string, Promise<void>>();
  return function exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(task);
    // The next task waits for this one whether it failed or not.
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}

export type KeyedMutex = ReturnType<typeof createKeyedMutex>;
