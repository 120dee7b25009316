import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * The work graphql-js's overlapping-fields rule does on a document, in units of one comparison
 * of two plain fields: every pair of fields that share a response name in a merged selection set
 * is compared, and the arguments of both are printed for each pair, each simple value ~175× the
 * cost of a plain comparison. 166 copies of `__typename(a: 1)` are 13,695 such pairs: 200 ms of
 * CPU in 2.6 kB; 15 copies with 20 arguments each cost 30 ms.
 */
const ARGUMENT_PAIR_WEIGHT = 175;

/** Roughly what printing a value costs: one per value node, long strings by their length. */
function valueWeight(value: ValueNode): number {
  switch (value.kind) {
    case Kind.STRING:
      return 1 + Math.floor(value.value.length / 64);
    case Kind.LIST:
      return value.values.reduce((sum, item) => sum + valueWeight(item), 1);
    case Kind.OBJECT:
      return value.fields.reduce((sum, field) => sum + valueWeight(field.value), 1);
    default:
      return 1;
  }
}

const argumentWeight = (field: FieldNode) =>
  (field.arguments ?? []).reduce((sum, argument) => sum + valueWeight(argument.value), 0) +
  (field.directives ?? []).reduce(
    (sum, directive) =>
      sum + (directive.arguments ?? []).reduce((n, a) => n + valueWeight(a.value), 1),
    0,
  );
export const MAX_REPEATED_FIELD_WORK = 20_000;

export function repeatedFieldWork(document: DocumentNode, budget: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const collect = (set: SelectionSetNode, into: Map<string, FieldNode[]>, path: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        const same = into.get(name);
        if (same) same.push(selection);
        else into.set(name, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet, into, path);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || path.has(fragment.name.value)) continue;
        path.add(fragment.name.value);
        collect(fragment.selectionSet, into, path);
        path.delete(fragment.name.value);
      }
    }
  };
  let work = 0;
  // Same-named fields have their sub-selections compared as one merged set, level by level.
  const analyze = (sets: SelectionSetNode[]) => {
    const byName = new Map<string, FieldNode[]>();
    for (const set of sets) collect(set, byName, new Set());
    for (const fields of byName.values()) {
      const pairs = (fields.length * (fields.length - 1)) / 2;
      if (pairs > 0) {
        const printed = Math.max(...fields.map(argumentWeight));
        work += pairs * (printed > 0 ? ARGUMENT_PAIR_WEIGHT * printed : 1);
      }
      if (work > budget) return;
      const children = fields.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
      if (children.length > 0) analyze(children);
      if (work > budget) return;
    }
  };
  for (const definition of document.definitions) {
    if (
      definition.kind === Kind.OPERATION_DEFINITION ||
      definition.kind === Kind.FRAGMENT_DEFINITION
    ) {
      analyze([definition.selectionSet]);
    }
    if (work > budget) break;
  }
  return work;
}

/**
 * Bounds the fields one request may select, checked before validation runs: graphql-js's
 * overlapping-fields rule compares selections pairwise, so 990 copies of one field cost tens of
 * milliseconds of CPU to an anonymous caller, within every other limit.
 */
