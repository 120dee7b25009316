/** Work in progress per key, for limits on how much one key may have running at once. */
export class RunningCounter {
  private readonly running = new Map<string, number>();

  count(key: string): number {
    return this.running.get(key) ?? 0;
  }

  /** Counts one more for each key; the returned function counts it out again (once). */
  enter(keys: readonly string[]): () => void {
    for (const key of keys) this.running.set(key, this.count(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const left = this.count(key) - 1;
        if (left <= 0) this.running.delete(key);
        else this.running.set(key, left);
      }
    };
  }
}
