import type { Connection } from 'mongoose';

/** One database call the app made, as mongoose handed it to the driver. */
export interface CapturedCall {
  readonly collection: string;
  readonly method: string;
  readonly params: readonly unknown[];
}

/** Calls whose first argument is a filter the database must find documents by. */
const FILTERED = new Set([
  'find',
  'findOne',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
  'countDocuments',
]);
/** Calls that find nothing: writes of new documents and index management. */
const UNFILTERED = new Set(['insertOne', 'insertMany', 'createIndex', 'createIndexes']);

/** Records every call made on `connection` until stopped. */
export function captureCalls(connection: Connection) {
  const calls: CapturedCall[] = [];
  const listener = (event: { collectionName: string; method: string; params: unknown[] }) => {
    calls.push({ collection: event.collectionName, method: event.method, params: event.params });
  };
  connection.on('operation-start', listener);
  return {
    calls,
    stop: () => connection.off('operation-start', listener),
  };
}

export interface QueryPlan {
  readonly call: string;
  /** True when the database reads the whole collection to answer it. */
  readonly scans: boolean;
  readonly plan: string;
}

type Plain = Record<string, unknown>;

/** The shape of a filter, values left out: calls that differ only in values plan alike. */
const shapeOf = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shapeOf(inner)]));
  }
  return typeof value;
};

function mongoStages(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((inner) => mongoStages(inner, found));
  else if (node !== null && typeof node === 'object') {
    const stage = (node as Plain).stage;
    if (typeof stage === 'string') found.push(stage);
    Object.values(node).forEach((inner) => mongoStages(inner, found));
  }
  return found;
}

/**
 * Asks the database how it would find the documents of each distinct call: MongoDB's query
 * planner (a COLLSCAN stage scans) or FerretDB's SQLite plan (`SCAN <table>` scans, `SEARCH
 * <table> USING INDEX` does not). Updates and deletes are planned as a find with the same
 * filter, which both databases answer the same way. A call of an unknown kind counts as a scan.
 */
export async function planCalls(
  connection: Connection,
  calls: readonly CapturedCall[],
): Promise<QueryPlan[]> {
  const db = connection.db;
  if (!db) throw new Error('not connected');
  const seen = new Set<string>();
  const plans: QueryPlan[] = [];
  for (const { collection, method, params } of calls) {
    if (UNFILTERED.has(method)) continue;
    const [filter, options] = params as [Plain | undefined, Plain | undefined];
    const call = `${collection}.${method}(${JSON.stringify(shapeOf(filter ?? {}))}${
      options?.sort ? `, sort ${JSON.stringify(options.sort)}` : ''
    })`;
    if (seen.has(call)) continue;
    seen.add(call);
    if (!FILTERED.has(method)) {
      plans.push({ call, scans: true, plan: 'not a point or range query' });
      continue;
    }
    const explained = (await db
      .collection(collection)
      .find(filter ?? {}, { sort: options?.sort as never, limit: options?.limit as never })
      .explain('queryPlanner')) as Plain;
    const planner = (explained.queryPlanner ?? {}) as Plain;
    if (Array.isArray(planner.Plan)) {
      const lines = planner.Plan.map(String);
      plans.push({
        call,
        scans: lines.some((line) => /\bSCAN\b/.test(line)),
        plan: lines.join('; '),
      });
    } else {
      const stages = mongoStages(planner.winningPlan);
      plans.push({ call, scans: stages.includes('COLLSCAN'), plan: stages.join(' < ') });
    }
  }
  return plans;
}
