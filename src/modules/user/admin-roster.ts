import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../../db/mongo.js';
import { lastAdmin, serviceUnavailable } from '../../errors.js';
import { createKeyedMutex } from '../../lib/keyed-mutex.js';
import type { StoredUser, UserModel } from './user.model.js';

/**
 * Who the active (enabled) ADMINs are, so that no change can leave none, on every replica.
 *
 * Version n of the roster is the document `admins:<n>`; `admins` holds a hint of the newest.
 * A change from version n inserts version n+1: of two racing changes exactly one insert succeeds
 * on the unique _id, on the embedded FerretDB as on MongoDB. (A conditional update on a version
 * field would not do: FerretDB does not apply one atomically.) Every change to an account's
 * roles, disabled flag or existence is one such version, so they happen one at a time across
 * replicas, each deciding from the account as the previous one left it. Superseded versions keep
 * only their number (their ids are removed), so erased users' ids do not linger.
 *
 * The ids are a list to check, not the truth: the accounts are. A removal is allowed only if some
 * other listed account is still an active ADMIN when read (ids that are not are dropped), and an
 * acting admin is listed again if missing, so a roster that missed an admin (a crash between
 * the two writes) heals, and one that names a former admin can never let the last one go.
 */
interface RosterDocument {
  _id: string;
  ids?: string[];
  at?: Date;
  /** Its change has written the account: the next change may decide. */
  done?: boolean;
  /** On the hint: the newest version known to have been written. */
  version?: number;
}

const HINT = 'admins';
const versionKey = (version: number) => `${HINT}:${version}`;
/** How long a change waits for the one before it to write its account. */
const SETTLE_MS = 2000;
const SETTLE_POLL_MS = 20;
/** A change that has not written its account within this long never will (a crash). */
const ABANDONED_MS = 60_000;
/** A change this late to write gives up rather than land after one that outwaited it. */
const LATE_MS = 30_000;
const MAX_ATTEMPTS = 20;

export type RosterModel = Model<RosterDocument>;

export function createRosterModel(connection: Connection): RosterModel {
  const schema = new Schema<RosterDocument>(
    {
      _id: { type: String, required: true },
      ids: { type: [String], default: undefined },
      at: { type: Date },
      done: { type: Boolean },
      version: { type: Number },
    },
    { collection: 'admin_roster', strict: 'throw', versionKey: false },
  );
  return connection.model<RosterDocument>('AdminRoster', schema);
}

export type Account = Pick<
  StoredUser,
  | '_id'
  | 'email'
  | 'roles'
  | 'disabled'
  | 'erasingSince'
  | 'createdAt'
  | 'credentialVersion'
  | 'seq'
>;

export const isActiveAdmin = (account: Account | null) =>
  account !== null && !account.disabled && account.roles.includes('ADMIN');

/** One change to one account, decided from that account as it is once earlier changes landed. */
export interface AccountChange<T> {
  readonly target: string;
  /** Accounts the caller knows act as ADMIN (the acting admin): listed if they are. */
  readonly witnesses?: readonly string[];
  /** Throws to refuse. `write` may be absent (a change that only lists an account). */
  decide(account: Account | null): {
    activeAdminAfter: boolean;
    write?: () => Promise<unknown>;
    result: T;
  };
}

export interface AdminRoster {
  change<T>(request: AccountChange<T>): Promise<T>;
  /** Lists an account created as ADMIN (bootstrap, CLI). */
  include(userId: string): Promise<void>;
  /** At start-up: the first roster, from the users that are ADMIN now (once; a scan). */
  initialize(): Promise<void>;
}

interface Version {
  readonly version: number;
  readonly ids: readonly string[];
  readonly settled: boolean;
}

export function createAdminRoster(deps: {
  roster: RosterModel;
  users: UserModel;
  now?: () => number;
}): AdminRoster {
  const { roster, users } = deps;
  const now = deps.now ?? Date.now;
  // Changes from this process queue here instead of racing each other for the next version.
  const oneAtATime = createKeyedMutex();

  const readAccount = (id: string): Promise<Account | null> =>
    users
      .findById(id)
      .select('email roles disabled erasingSince createdAt credentialVersion seq')
      .lean();

  /** The newest version: from the hint, forward while the next one exists. */
  async function newest(): Promise<Version | undefined> {
    let version = Math.max(1, (await roster.findById(HINT).lean())?.version ?? 0);
    let found: Version | undefined;
    for (;;) {
      const doc = await roster.findById(versionKey(version)).lean();
      if (!doc) return found;
      const age = now() - (doc.at?.getTime() ?? 0);
      found = { version, ids: doc.ids ?? [], settled: doc.done === true || age > ABANDONED_MS };
      version += 1;
    }
  }

  async function settledNewest(): Promise<Version> {
    const deadline = now() + SETTLE_MS;
    for (;;) {
      const found = (await newest()) ?? { version: 0, ids: [], settled: true };
      if (found.settled) return found;
      if (now() >= deadline) throw serviceUnavailable();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  async function raiseHint(version: number) {
    try {
      await roster.updateOne({ _id: HINT }, { $max: { version } }, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await roster.updateOne({ _id: HINT }, { $max: { version } });
    }
  }

  async function finish(version: number) {
    await roster.updateOne({ _id: versionKey(version) }, { $set: { done: true } });
    await Promise.all([
      version > 1
        ? roster.updateOne({ _id: versionKey(version - 1) }, { $unset: { ids: 1 } })
        : undefined,
      raiseHint(version),
    ]);
  }

  /** The listed accounts that are active ADMINs now; LAST_ADMIN if none is. */
  async function verified(ids: readonly string[]) {
    const accounts = await Promise.all(ids.map(readAccount));
    const active = ids.filter((_, i) => isActiveAdmin(accounts[i] ?? null));
    if (active.length === 0) throw lastAdmin();
    return active;
  }

  async function attempt<T>(request: AccountChange<T>): Promise<{ done: true; result: T } | null> {
    const current = await settledNewest();
    const account = await readAccount(request.target);
    const decision = request.decide(account);
    let ids = current.ids.filter((id) => id !== request.target);
    for (const witness of request.witnesses ?? []) {
      if (witness === request.target || ids.includes(witness)) continue;
      if (isActiveAdmin(await readAccount(witness))) ids = [...ids, witness];
    }
    if (isActiveAdmin(account) && !decision.activeAdminAfter) ids = await verified(ids);
    if (decision.activeAdminAfter) ids = [...ids, request.target];
    const next = current.version + 1;
    const claimedAt = now();
    try {
      await roster.create({ _id: versionKey(next), ids, at: new Date(claimedAt) });
    } catch (error) {
      if (isDuplicateKeyError(error)) return null; // another change came first: decide again
      throw error;
    }
    try {
      if (now() - claimedAt > LATE_MS) throw serviceUnavailable();
      await decision.write?.();
    } finally {
      // Even if the write failed: a roster that lists too many is checked against the accounts,
      // one that lists too few only refuses too much, and the next change must not wait.
      await finish(next);
    }
    return { done: true, result: decision.result };
  }

  async function change<T>(request: AccountChange<T>): Promise<T> {
    return oneAtATime(HINT, async () => {
      for (let tries = 0; tries < MAX_ATTEMPTS; tries += 1) {
        const outcome = await attempt(request);
        if (outcome) return outcome.result;
      }
      throw serviceUnavailable();
    });
  }

  return {
    change,

    include: (userId) =>
      change({
        target: userId,
        decide: (account) => ({ activeAdminAfter: isActiveAdmin(account), result: undefined }),
      }),

    async initialize() {
      if (await newest()) return;
      // Once per database, before the server listens: not a request path.
      const admins = await users.find({ roles: 'ADMIN' }, { roles: 1, disabled: 1 }).lean();
      const ids = admins.filter((admin) => !admin.disabled).map((admin) => String(admin._id));
      try {
        await roster.create({ _id: versionKey(1), ids, at: new Date(now()), done: true });
      } catch (error) {
        // Another replica starting at the same time wrote it.
        if (!isDuplicateKeyError(error)) throw error;
      }
      await raiseHint(1);
    },
  };
}
