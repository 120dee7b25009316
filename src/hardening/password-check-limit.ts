import {
  Kind,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { ErrorCode, refusalStatus } from '../errors.js';
import type { GuardExtensions } from '../auth/guards.js';

/** Mutation fields marked @checksPassword: each runs at least one bcrypt computation. */
function passwordFields(schema: GraphQLSchema): ReadonlySet<string> {
  const fields = Object.values(schema.getMutationType()?.getFields() ?? {});
  return new Set(
    fields
      .filter((field) => (field.extensions as Partial<GuardExtensions>).checksPassword === true)
      .map((field) => field.name),
  );
}

/**
 * Each password check is a full bcrypt computation (~0.2 s of a core at cost 12). Aliases
 * would let one request carry a dozen, past every per-request limit, so a document may select
 * at most one such field, counted by response key through fragments.
 */
function onePasswordCheckRule(fields: ReadonlySet<string>): ValidationRule {
  return (context: ValidationContext) => {
    const responseKeys = new Set<string>();
    const seenFragments = new Set<string>();
    const collect = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          if (fields.has(selection.name.value)) {
            responseKeys.add(selection.alias?.value ?? selection.name.value);
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          collect(selection.selectionSet);
        } else if (!seenFragments.has(selection.name.value)) {
          seenFragments.add(selection.name.value);
          const fragment = context.getFragment(selection.name.value);
          if (fragment) collect(fragment.selectionSet);
        }
      }
    };
    return {
      OperationDefinition(operation) {
        if (operation.operation === 'mutation') collect(operation.selectionSet);
      },
      Document: {
        leave() {
          if (responseKeys.size > 1) {
            context.reportError(
              createGraphQLError(
                `A request may run at most one password check (${[...fields].join(', ')}); send them separately`,
                {
                  extensions: {
                    code: ErrorCode.TOO_MANY_PASSWORD_CHECKS,
                    http: { status: refusalStatus(ErrorCode.TOO_MANY_PASSWORD_CHECKS) },
                  },
                },
              ),
            );
          }
        },
      },
    };
  };
}

export function usePasswordCheckLimit(schema: GraphQLSchema): Plugin {
  const rule = onePasswordCheckRule(passwordFields(schema));
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
