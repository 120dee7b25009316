import { requestScanBudget } from '../db/log-cursor.js';
import type { ScanBudget } from '../db/sequence-log.js';

const budgets = new WeakMap<Request, ScanBudget>();

/**
 * The scan budget (SCAN_BUDGET_PER_REQUEST) of the request a resolver runs in, shared by every
 * list field the operation selects: fifteen aliased copies of a filtered `users` cost what one
 * does, the first walks taking what they visit and the later ones what is left.
 */
export function scanBudgetOf(context: { readonly request: Request }): ScanBudget {
  let budget = budgets.get(context.request);
  if (!budget) {
    budget = requestScanBudget();
    budgets.set(context.request, budget);
  }
  return budget;
}
