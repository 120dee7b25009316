import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

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

/**
 * Bounds the fields one request may select, checked before validation runs: graphql-js's
 * overlapping-fields rule compares selections pairwise, so 990 copies of one field cost tens of
 * milliseconds of CPU to an anonymous caller, within every other limit.
 */
export function useSelectionLimit(limit: number): Plugin {
  // Yoga's parse cache hands back the same document for the same text: count each one once.
  const counted = new WeakMap<DocumentNode, number>();
  return {
    onValidate({ params, setResult }) {
      const document = params.documentAST;
      let count = counted.get(document);
      if (count === undefined) {
        count = countSelections(document, limit);
        counted.set(document, count);
      }
      if (count > limit) {
        setResult([
          createGraphQLError(`Selection limit of ${limit} fields exceeded`, {
            extensions: { code: 'TOO_MANY_SELECTIONS', http: { status: 400 } },
          }),
        ]);
      }
    },
  };
}
