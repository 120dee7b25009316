/**
 * What GraphiQL opens with in development: the first operations, where the token goes, and an
 * admin's paged list. test/schema/examples.test.ts validates them against the schema.
 */
export const GRAPHIQL_EXAMPLES = {
  title: 'GraphQL Auth API',
  defaultQuery: `# 1. Run SignUp (or Login), copy accessToken.
# 2. Headers tab below:
#    { "Authorization": "Bearer <accessToken>" }
# 3. Run Me.

mutation SignUp {
  signUp(email: "ada@example.com", password: "correct horse") {
    accessToken
    tokenType
    expiresIn
    user { id email roles createdAt }
  }
}

mutation Login {
  login(email: "ada@example.com", password: "correct horse") {
    accessToken
    expiresIn
  }
}

query Me {
  me { id email roles createdAt }
}

# 4. An API key for a script: send its key as "Authorization": "Bearer gqa_..." (shown once).
mutation CreateApiKey {
  createApiKey(name: "export script", scopes: ["profile:read"]) {
    key
    apiKey { id scopes expiresAt }
  }
}

# 5. Signed in as an ADMIN (BOOTSTRAP_ADMIN_EMAIL), run Users; for the next page, pass
#    pageInfo.endCursor as after, until hasNextPage is false (a filtered page may be empty).
query Users($after: String) {
  users(first: 20, after: $after, filter: { emailPrefix: "ada" }) {
    edges { node { id email roles createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
`,
};
