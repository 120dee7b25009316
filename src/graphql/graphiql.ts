/**
 * What GraphiQL opens with in development: signing in, where the token goes, an API key, the
 * admin's paged list and operations on accounts. test/schema/examples.test.ts and
 * test/schema/graphiql.test.ts validate them against the schema.
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

# 6. Admins, with an ADMIN's token: user ids are User.id (from users).
# The last active ADMIN cannot be demoted, disabled or deleted.
mutation SetUserRoles($userId: ID!) {
  setUserRoles(userId: $userId, roles: [USER, ADMIN]) { id roles }
}

mutation DisableUser($userId: ID!) {
  disableUser(userId: $userId) { id }
}

mutation EnableUser($userId: ID!) {
  enableUser(userId: $userId) { id }
}

mutation DeleteUser($userId: ID!) {
  deleteUser(userId: $userId)
}

# Any signed-in user: erases their own account.
mutation DeleteAccount {
  deleteAccount(password: "correct horse")
}
`,
};
