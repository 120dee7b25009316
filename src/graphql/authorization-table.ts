import { isObjectType, type GraphQLSchema } from 'graphql';
import type { GuardExtensions, TypeGuardExtensions } from '../auth/guards.js';
import { allows, describeRule, type Caller, type Rule } from '../auth/rules.js';
import { scopesOfRoles } from '../auth/scope-vocabulary.js';

/** The callers docs/authorization.md's table has a column for. */
export const CALLERS: Record<string, Caller> = {
  anonymous: { signedIn: false, roles: [], scopes: new Set(), owns: false },
  owner: { signedIn: true, roles: ['USER'], scopes: scopesOfRoles(['USER']), owns: true },
  'another user': { signedIn: true, roles: ['USER'], scopes: scopesOfRoles(['USER']), owns: false },
  ADMIN: {
    signedIn: true,
    roles: ['USER', 'ADMIN'],
    scopes: scopesOfRoles(['USER', 'ADMIN']),
    owns: false,
  },
};

/** Every field of every object type with the rule it has (its own, else its type's). */
export function fieldRules(schema: GraphQLSchema) {
  return Object.values(schema.getTypeMap())
    .filter((type) => isObjectType(type) && !type.name.startsWith('__'))
    .flatMap((type) => {
      if (!isObjectType(type)) return [];
      const typeRule = (type.extensions as Partial<TypeGuardExtensions>).rule;
      return Object.values(type.getFields()).map((field) => {
        const own = (field.extensions as Partial<GuardExtensions>).rule;
        return { type: type.name, field: field.name, rule: own ?? typeRule, inherited: !own };
      });
    });
}

/** The markdown table of who may use what, generated into docs/authorization.md. */
export function authorizationTable(schema: GraphQLSchema): string {
  const names = Object.keys(CALLERS);
  const rows = fieldRules(schema).map(({ type, field, rule, inherited }) => {
    const decided = rule as Rule | undefined;
    const outcomes = names.map((name) =>
      decided && allows(decided, CALLERS[name]!) ? 'yes' : '—',
    );
    const words = decided ? describeRule(decided) : '**no rule**';
    return `| \`${type}.${field}\` | ${words}${inherited && type !== 'Query' && type !== 'Mutation' ? ' (type)' : ''} | ${outcomes.join(' | ')} |`;
  });
  return [
    `| Field | Who may use it | ${names.join(' | ')} |`,
    `| --- | --- | ${names.map(() => '---').join(' | ')} |`,
    ...rows,
  ].join('\n');
}
