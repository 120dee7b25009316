import { describe, expect, it } from '@jest/globals';
import { parse, validate } from 'graphql';
import { GRAPHIQL_EXAMPLES } from '../../src/graphql/graphiql.js';
import { schema } from '../../src/graphql/schema.js';

describe('GraphiQL examples', () => {
  it('are valid against the schema, so the page opens on operations that run', () => {
    const document = parse(GRAPHIQL_EXAMPLES.defaultQuery);
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
    const names = document.definitions.map((definition) =>
      'name' in definition ? definition.name?.value : undefined,
    );
    expect(names).toEqual([
      'SignUp',
      'Login',
      'Me',
      'CreateApiKey',
      'Users',
      'SetUserRoles',
      'DisableUser',
      'EnableUser',
      'DeleteUser',
      'DeleteAccount',
    ]);
  });
});
