import {
  Kind,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { refusalStatus } from '../errors.js';
import { MAX_REPEATED_FIELD_WORK, repeatedFieldWork } from './repeated-fields.js';

/**
 * How many fields a document selects, duplicates included, fragments counted once per spread
 * (unused ones once), stopping as soon as the count passes `limit`. Fragment counts are memoized, so a
 * fragment spread many times (or a "fragment bomb" of nested spreads) costs one pass each.
 */
export function countSelections(document: DocumentNode, limit: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const fragmentCounts = new Map<string, number>();
  const visiting = new Set<string>();

  const countSet = (selectionSet: SelectionSetNode | undefined): number => {
    let total = 0;
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) total += 1 + countSet(selection.selectionSet);
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += countSet(selection.selectionSet);
      else total += countFragment(selection.name.value);
      if (total > limit) return total;
    }
    return total;
  };
  const countFragment = (name: string): number => {
    const known = fragmentCounts.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // Unknown or cyclic spreads: validation rejects them; they add nothing here.
    if (!fragment || visiting.has(name)) return 0;
    visiting.add(name);
    const count = countSet(fragment.selectionSet);
    visiting.delete(name);
    fragmentCounts.set(name, count);
    return count;
  };

  let total = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) total += countSet(definition.selectionSet);
    if (total > limit) return total;
  }
  // Fragments no operation reached count too: validation visits them all, so an unused fragment
  // of 975 fields cost as much as a used one.
  for (const [name] of fragments) {
    if (!fragmentCounts.has(name)) total += countFragment(name);
    if (total > limit) return total;
  }
  return total;
}

type Verdict = 'ok' | 'TOO_MANY_SELECTIONS' | 'TOO_MANY_REPEATED_FIELDS';

function judge(document: DocumentNode, limit: number): Verdict {
  // The selection count runs first: it bounds the expansion repeatedFieldWork walks.
  if (countSelections(document, limit) > limit) return 'TOO_MANY_SELECTIONS';
  if (repeatedFieldWork(document, MAX_REPEATED_FIELD_WORK) > MAX_REPEATED_FIELD_WORK) {
    return 'TOO_MANY_REPEATED_FIELDS';
  }
  return 'ok';
}

const rejection = (code: Exclude<Verdict, 'ok'>, limit: number) =>
  createGraphQLError(
    code === 'TOO_MANY_SELECTIONS'
      ? `Selection limit of ${limit} fields exceeded`
      : 'Too many repeated fields: select each field once per selection set',
    { extensions: { code, http: { status: refusalStatus(code) } } },
  );

/**
 * graphql-js stops validating at 100 errors; each error costs a scan of the source for its line
 * and column, and an unknown field a search of the type's fields for suggestions. A client needs
 * the first few to fix its query.
 */
const MAX_VALIDATION_ERRORS = 10;
const validateWithFewErrors: typeof validate = (schema, document, rules) =>
  validate(schema, document, rules, { maxErrors: MAX_VALIDATION_ERRORS });

export function useSelectionLimit(limit: number): Plugin {
  // Yoga's parse cache hands back the same document for the same text: judge each one once.
  const verdicts = new WeakMap<DocumentNode, Verdict>();
  return {
    onValidate({ params, setResult, setValidationFn }) {
      setValidationFn(validateWithFewErrors);
      const document = params.documentAST;
      let verdict = verdicts.get(document);
      if (verdict === undefined) {
        verdict = judge(document, limit);
        verdicts.set(document, verdict);
      }
      if (verdict !== 'ok') setResult([rejection(verdict, limit)]);
    },
  };
}
