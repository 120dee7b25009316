import { describe, expect, it } from '@jest/globals';
import { parse, validate } from 'graphql';
import { GRAPHIQL_EXAMPLES } from '../../src/graphql/graphiql.js';
import { schema } from '../../src/graphql/schema.js';

describe('the GraphiQL examples', () => {
  it('are valid operations of the current schema, the admin ones included', () => {
    const document = parse(GRAPHIQL_EXAMPLES.defaultQuery);
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
    const names = document.definitions.map((definition) =>
      'name' in definition ? definition.name?.value : undefined,
    );
    expect(names).toEqual(
      expect.arrayContaining(['Login', 'Me', 'SetUserRoles', 'DeleteUser', 'DeleteAccount']),
    );
  });
});
