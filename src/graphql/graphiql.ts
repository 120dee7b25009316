/** What GraphiQL opens with in development: the three operations and where the token goes. */
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
`,
};
