/** What GraphiQL opens with in development: the three operations and where the token goes. */
export const GRAPHIQL_EXAMPLES = {
  title: 'GraphQL Auth API',
  defaultQuery: `# 1. Run "SignUp" (or "Login" for an existing account) and copy accessToken.
# 2. Open the Headers tab below and add:
#      { "Authorization": "Bearer <accessToken>" }
# 3. Run "Me".

mutation SignUp {
  signUp(email: "ada@example.com", password: "correct horse battery") {
    accessToken
    tokenType
    expiresIn
    user { id email roles createdAt }
  }
}

mutation Login {
  login(email: "ada@example.com", password: "correct horse battery") {
    accessToken
    expiresIn
  }
}

query Me {
  me { id email roles createdAt }
}
`,
};
