import { Types, isValidObjectId } from 'mongoose';
import {
  decodeCursor,
  pageOf,
  requestScanBudget,
  type CursorScope,
  type Page,
} from '../../db/log-cursor.js';
import type { ScanBudget, SequenceLogs, Visit } from '../../db/sequence-log.js';
import { badUserInput } from '../../errors.js';
import { MAX_EMAIL_LENGTH, isAcceptableEmailInput, normalizeEmail } from '../../lib/email.js';
import { ROLES, USERS_LOG, toUser, type Role, type User, type UserModel } from './user.model.js';

export const MAX_PAGE_SIZE = 100;
/**
 * Entries read and visited at once while filtering, at most: each is two point lookups. A
 * filter is applied in code (the embedded FerretDB answers only `{_id}` from an index), within
 * the request's scan budget (SCAN_BUDGET_PER_REQUEST), so a page of sparse matches may end
 * early with hasNextPage.
 */
const SCAN_CHUNK = 200;
/**
 * Longer than a sign-up takes from claiming its user id to writing the user (the claim comes
 * right after hashing; see email-claims.ts): a missing user younger than this may still arrive.
 */
const IN_FLIGHT_MS = 60_000;

const CURSOR: CursorScope = { kind: 'users' };

export interface UserFilter {
  /** Matched against the normalized email, after normalizing it the same way. */
  readonly emailPrefix?: string;
  readonly role?: Role;
  readonly disabled?: boolean;
}

export interface UserListing {
  readonly first: number;
  readonly after?: string;
  readonly filter?: UserFilter;
  /** The request's, when it reads more than one list; a budget of its own otherwise. */
  readonly budget?: ScanBudget;
}

interface ListedDocument {
  _id: unknown;
  email: string;
  roles: Role[];
  disabled?: boolean;
  seq?: number;
  createdAt: Date;
  credentialVersion?: number;
}

function checkedFilter({ emailPrefix, role, disabled }: UserFilter) {
  let prefix: string | undefined;
  if (emailPrefix !== undefined) {
    prefix = isAcceptableEmailInput(emailPrefix) ? normalizeEmail(emailPrefix) : '';
    if (prefix.length === 0 || prefix.length > MAX_EMAIL_LENGTH) {
      throw badUserInput(
        'emailPrefix',
        `emailPrefix must be 1-${MAX_EMAIL_LENGTH} characters of an email address`,
      );
    }
  }
  if (role !== undefined && !ROLES.includes(role)) throw badUserInput('role', 'Unknown role');
  return (doc: ListedDocument) =>
    (prefix === undefined || doc.email.startsWith(prefix)) &&
    (role === undefined || doc.roles.includes(role)) &&
    (disabled === undefined || (doc.disabled ?? false) === disabled);
}

const madeAt = (ref: string) =>
  isValidObjectId(ref) ? new Types.ObjectId(ref).getTimestamp().getTime() : 0;

/**
 * The admin's list of users: the users log (every user in sign-up order) walked from the cursor,
 * each user read by _id, within the scan budget.
 */
export function createUserList(deps: { users: UserModel; logs: SequenceLogs }) {
  const { users, logs } = deps;

  return async function list(listing: UserListing): Promise<Page<User>> {
    const { first, after, filter = {}, budget = requestScanBudget() } = listing;
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw badUserInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
    }
    const from = after === undefined ? undefined : decodeCursor(CURSOR, after);
    if (after !== undefined && from === undefined) {
      throw badUserInput('after', 'after must be an endCursor or cursor of this list');
    }
    const matches = checkedFilter(filter);
    const filtered = Object.values(filter).some((value) => value !== undefined);
    const visit = async ({ ref, seq }: { ref: string; seq: number }): Promise<Visit<User>> => {
      const doc = (await users.findById(ref).lean()) as ListedDocument | null;
      // A sign-up lists its user before writing it: wait for one still under way rather than
      // walk past it for good; one that died long ago is read past, as is a dead sign-up's
      // entry whose user another one completed (its seq names that other entry).
      if (!doc) return madeAt(ref) > Date.now() - IN_FLIGHT_MS ? 'stop' : 'skip';
      return doc.seq === seq && matches(doc) ? { keep: toUser(doc) } : 'skip';
    };
    const walk = await logs.walk(
      USERS_LOG,
      { first, from, newestFirst: false, budget, chunk: filtered ? SCAN_CHUNK : 0 },
      visit,
    );
    return pageOf(CURSOR, walk);
  };
}
