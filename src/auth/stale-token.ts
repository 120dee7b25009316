import {
  getOperationAST,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { BearerRefusal } from '../errors.js';
import type { GuardExtensions, TypeGuardExtensions } from './guards.js';

/**
 * A refused bearer token (expired, revoked, bad signature, unknown API key) is held back until
 * the operation is known: a client that still sends its stale token with `login` or
 * `refreshToken` must not be locked out of the very fields that renew it. When every root field
 * the operation selects is @public, the token is ignored and the operation runs anonymous; any
 * other root field gets the refusal (401 with its challenge) before anything executes, as when
 * the token was refused outright. Malformed headers, other schemes and the invalid-token rate
 * limit (429) are not held back (src/auth/authenticate.ts): they refuse the request at once.
 */
export interface HeldRefusal {
  readonly refusedToken?: BearerRefusal;
}

function isPublicField(type: GraphQLObjectType, name: string) {
  // __typename, __schema and __type have no rule: not @public, so they do not hide a bad token.
  const field = type.getFields()[name];
  if (!field) return false;
  const own = (field.extensions as Partial<GuardExtensions>).rule;
  const rule = own ?? (type.extensions as Partial<TypeGuardExtensions>).rule;
  return rule?.public === true;
}

/** Whether every root field of the operation, through fragments too, is @public. */
export function selectsOnlyPublicFields(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
) {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return false;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const visited = new Set<string>();
  // @skip and @include are not evaluated: a field that may be selected counts as selected.
  const allPublic = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.every((selection) => {
      if (selection.kind === Kind.FIELD) return isPublicField(root, selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return allPublic(selection.selectionSet);
      const name = selection.name.value;
      if (visited.has(name)) return true;
      visited.add(name);
      const fragment = fragments.get(name);
      return fragment ? allPublic(fragment.selectionSet) : false;
    });
  return allPublic(operation.selectionSet);
}

/** Raises a held-back token refusal once parsing and validation show what the operation selects. */
export function useStaleTokenCheck(): Plugin {
  return {
    onExecute({ args }) {
      const refusal = (args.contextValue as HeldRefusal).refusedToken;
      if (!refusal) return;
      if (!selectsOnlyPublicFields(args.schema, args.document, args.operationName)) throw refusal;
    },
  };
}
