import { Schema, type Connection, type Model } from 'mongoose';
import { BoundedMap } from '../lib/bounded-map.js';
import { createKeyedMutex } from '../lib/keyed-mutex.js';
import { isDuplicateKeyError } from './mongo.js';

/**
 * An entry `<log>#<seq>` names a document elsewhere (`ref`); `<log>#head` and `<log>#tail` hold
 * where the log ends and starts. Every access is by `_id` alone: the one query shape the embedded
 * FerretDB answers from an index (see src/db/ferretdb.ts), and a point lookup on MongoDB too.
 */
interface LogDocument {
  _id: string;
  ref?: string;
  next?: number;
}

export type SequenceLogModel = Model<LogDocument>;

export function createSequenceLogModel(connection: Connection, collection: string) {
  const schema = new Schema<LogDocument>(
    { _id: { type: String, required: true }, ref: { type: String }, next: { type: Number } },
    { collection, strict: 'throw', versionKey: false },
  );
  return connection.model<LogDocument>(`SequenceLog:${collection}`, schema, collection);
}

export interface LogEntry {
  readonly seq: number;
  readonly ref: string;
}

/**
 * How many more entries walks may visit, shared by every walk that holds it: each takes its
 * batches out of it before reading them, so walks running at once never visit more in all.
 */
export interface ScanBudget {
  remaining: number;
}

/** What a walk does with an entry: keeps its document, reads past it, or stops before it. */
export type Visit<T> = { readonly keep: T } | 'skip' | 'stop';

export interface Walk<T> {
  /** The documents kept, each with its entry's number. */
  readonly found: readonly { readonly seq: number; readonly doc: T }[];
  /** The last entry visited: where the next walk goes on from (`from` if none was). */
  readonly stoppedAt: number | undefined;
  /** False only when the walk reached the end of the log. */
  readonly more: boolean;
}

/** The head hint is written every this many appends; readers probe past it for the rest. */
const HEAD_HINT_EVERY = 16;
/** Appends that found their number taken before the log's end is looked up afresh. */
const RETAKES_BEFORE_LOOKUP = 8;
const MAX_APPEND_ATTEMPTS = 64;
/** Logs whose next number a process remembers (one per audit type and user, say). */
const REMEMBERED_LOGS = 10_000;
const REMEMBER_MS = 10 * 60_000;
/** Entries drop() deletes at once. */
const DROP_BATCH = 100;

/**
 * Append-only logs of references, numbered densely from 0, read newest-first or oldest-first and
 * trimmed from the oldest end: how the audit trail pages and how sweeps find what has expired
 * without a range query. An append is an insert under a unique `_id`, so concurrent writers in
 * other replicas never share a number and leave no gaps: a taken number means take the next.
 * Entries between the tail and the end all exist, except where the document an entry names was
 * never written (readers skip those). Trimming moves the tail; entries are only ever deleted from
 * the tail end.
 */
export class SequenceLogs {
  private readonly nextNumbers = new BoundedMap<number>(REMEMBERED_LOGS);
  private readonly appending = createKeyedMutex();

  constructor(private readonly model: SequenceLogModel) {}

  /** Adds `ref` at the end of `log`; returns its number. */
  append(log: string, ref: string): Promise<number> {
    // One append per log at a time in this process: a number is only taken by an insert that
    // succeeded, so a failed one leaves no gap, this process's entries keep their order, and
    // appends made at once do not all try the one remembered number and retry one by one.
    return this.appending(log, () => this.insertAtEnd(log, ref));
  }

  private async insertAtEnd(log: string, ref: string): Promise<number> {
    let seq = this.nextNumbers.get(log, Date.now()) ?? (await this.end(log));
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.model.create({ _id: entryKey(log, seq), ref });
        break;
      } catch (error) {
        // Taken by another process: take the next, or look the end up again after a few.
        if (!isDuplicateKeyError(error) || attempt >= MAX_APPEND_ATTEMPTS) throw error;
        seq = attempt % RETAKES_BEFORE_LOOKUP === 0 ? await this.end(log) : seq + 1;
      }
    }
    this.nextNumbers.set(log, seq + 1, Date.now() + REMEMBER_MS, Date.now());
    // A hint: readers find the end without it, so its failure must not fail an append that landed.
    if ((seq + 1) % HEAD_HINT_EVERY === 0) {
      await this.raise(`${log}#head`, seq + 1).catch(() => undefined);
    }
    return seq;
  }

  /** One past the newest entry: found from the closest hint by probing forward, then bisecting. */
  async end(log: string): Promise<number> {
    const [head, tail] = await Promise.all([this.mark(`${log}#head`), this.start(log)]);
    // What this process appended last is a closer hint than the head, when it has one.
    const appended = this.nextNumbers.get(log, Date.now()) ?? 0;
    let present = Math.max(head, tail, appended) - 1; // known present, or below the tail
    let step = 1;
    let absent = present + step;
    while (await this.exists(log, absent)) {
      present = absent;
      step *= 2;
      absent = present + step;
    }
    while (absent - present > 1) {
      const middle = Math.floor((present + absent) / 2);
      if (await this.exists(log, middle)) present = middle;
      else absent = middle;
    }
    return absent;
  }

  /** The oldest number that may still be present. */
  start(log: string): Promise<number> {
    return this.mark(`${log}#tail`);
  }

  /** Up to `limit` entries, newest first, numbered below `before` (the end if absent). */
  async newest(log: string, limit: number, before?: number): Promise<LogEntry[]> {
    const [end, tail] = await Promise.all([
      before === undefined ? this.end(log) : Promise.resolve(before),
      this.start(log),
    ]);
    const from = Math.max(tail, end - limit);
    const seqs = Array.from({ length: end - from }, (_, i) => end - 1 - i);
    return this.read(log, seqs);
  }

  /** Up to `limit` entries, oldest first, numbered above `after` (from the tail if absent). */
  async oldest(log: string, limit: number, after?: number): Promise<LogEntry[]> {
    const tail = await this.start(log);
    const from = after === undefined ? tail : Math.max(tail, after + 1);
    const seqs = Array.from({ length: limit }, (_, i) => from + i);
    const found = await this.read(log, seqs);
    // Misses before the first entry were trimmed by a sweep whose tail raise was lost; after it,
    // a miss is the end, or an append still being written: stop there.
    const first = found[0]?.seq ?? from;
    return found.filter((entry, i) => entry.seq === first + i);
  }

  /**
   * Walks a log from `from` (exclusive) towards its newest or oldest end, asking `visit` about
   * each entry in order, until `first` documents are kept, `budget` runs out, or `visit` says
   * stop. Entries are read and visited a batch at a time: as many as are still wanted, then,
   * while `visit` reads past entries, twice as many each time, up to `chunk`. One more is read,
   * not visited, to tell whether the log goes on.
   */
  async walk<T>(
    log: string,
    options: {
      first: number;
      from?: number;
      newestFirst: boolean;
      budget: ScanBudget;
      chunk?: number;
    },
    visit: (entry: LogEntry) => Promise<Visit<T>>,
  ): Promise<Walk<T>> {
    const { first, newestFirst, budget, chunk = 0 } = options;
    const found: { seq: number; doc: T }[] = [];
    let from = options.from;
    let reach = 0;
    while (budget.remaining > 0) {
      const wanted = first - found.length;
      reach = Math.max(wanted, Math.min(reach * 2, chunk));
      const size = Math.min(budget.remaining, reach);
      budget.remaining -= size;
      const entries = newestFirst
        ? await this.newest(log, size + 1, from)
        : await this.oldest(log, size + 1, from);
      const batch = entries.slice(0, size);
      budget.remaining += size - batch.length;
      const visits = await Promise.all(batch.map(visit));
      for (const [i, outcome] of visits.entries()) {
        if (outcome === 'stop') return { found, stoppedAt: from, more: true };
        from = (batch[i] as LogEntry).seq;
        if (outcome === 'skip') continue;
        found.push({ seq: from, doc: outcome.keep });
        if (found.length === first) return { found, stoppedAt: from, more: i + 1 < entries.length };
      }
      if (entries.length <= size) return { found, stoppedAt: from, more: false };
    }
    return { found, stoppedAt: from, more: true };
  }

  /** Deletes the entries up to and including `through`, which must be the oldest ones. */
  async trim(log: string, entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const through = Math.max(...entries.map((entry) => entry.seq));
    // The tail moves first: a crash in between leaves entries below it, never a gap above it.
    await this.raise(`${log}#tail`, through + 1);
    await Promise.all(
      entries.map((entry) => this.model.deleteOne({ _id: entryKey(log, entry.seq) })),
    );
  }

  /**
   * Deletes a whole log, its marks included (erasure: a log named after a user). Entries from the
   * tail to the end, a batch at a time; an append racing it may leave one behind.
   */
  async drop(log: string): Promise<void> {
    const [tail, end] = await Promise.all([this.start(log), this.end(log)]);
    for (let from = tail; from < end; from += DROP_BATCH) {
      const seqs = Array.from({ length: Math.min(DROP_BATCH, end - from) }, (_, i) => from + i);
      await Promise.all(seqs.map((seq) => this.model.deleteOne({ _id: entryKey(log, seq) })));
    }
    await Promise.all(
      [`${log}#head`, `${log}#tail`].map((key) => this.model.deleteOne({ _id: key })),
    );
    this.nextNumbers.delete(log);
  }

  /**
   * Points the entry `seq` at `ref` instead, if it still names `from`: how erasure takes a user's
   * id out of a log without leaving a gap, which readers would take for its end.
   */
  async rewrite(log: string, seq: number, from: string, ref: string): Promise<boolean> {
    const key = entryKey(log, seq);
    const entry = await this.model.findById(key).lean();
    if (entry?.ref !== from) return false;
    await this.model.updateOne({ _id: key }, { $set: { ref } });
    return true;
  }

  private async read(log: string, seqs: number[]): Promise<LogEntry[]> {
    const docs = await Promise.all(
      seqs.map((seq) => this.model.findById(entryKey(log, seq)).lean()),
    );
    return docs.flatMap((doc, i) =>
      doc?.ref === undefined ? [] : [{ seq: seqs[i] as number, ref: doc.ref }],
    );
  }

  private async exists(log: string, seq: number) {
    if (seq < 0) return true;
    return (await this.model.findById(entryKey(log, seq)).select('_id').lean()) !== null;
  }

  private async mark(key: string): Promise<number> {
    return (await this.model.findById(key).lean())?.next ?? 0;
  }

  /** Raises a head or tail mark; never lowers one. Racing raises may lose one: both are hints. */
  private async raise(key: string, next: number) {
    try {
      await this.model.updateOne({ _id: key }, { $max: { next } }, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await this.model.updateOne({ _id: key }, { $max: { next } });
    }
  }
}

/** Exported for seeding a log in bulk (bench/seed.ts); everything else goes through SequenceLogs. */
export const entryKey = (log: string, seq: number) => `${log}#${seq}`;
