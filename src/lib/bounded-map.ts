interface Slot<V> {
  value: V;
  expiresAt: number;
}

/**
 * A Map whose entries expire and whose size is capped, at constant cost per operation: entries
 * are kept in order of last write, so the oldest sit at the front, where each write sweeps a few
 * expired ones and, at the cap, evicts the least recently written.
 */
export class BoundedMap<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private static readonly SWEEP_PER_WRITE = 2;

  constructor(private readonly maxKeys: number) {}

  get size() {
    return this.slots.size;
  }

  get(key: string, now: number): V | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= now) {
      this.slots.delete(key);
      return undefined;
    }
    return slot.value;
  }

  set(key: string, value: V, expiresAt: number, now: number) {
    this.slots.delete(key);
    this.sweep(now);
    if (this.slots.size >= this.maxKeys) {
      const oldest = this.slots.keys().next();
      if (!oldest.done) this.slots.delete(oldest.value);
    }
    this.slots.set(key, { value, expiresAt });
  }

  delete(key: string) {
    this.slots.delete(key);
  }

  private sweep(now: number) {
    let budget = BoundedMap.SWEEP_PER_WRITE;
    for (const [key, slot] of this.slots) {
      if (budget-- === 0 || slot.expiresAt > now) return;
      this.slots.delete(key);
    }
  }
}
