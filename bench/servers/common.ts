/** Shared by the comparison servers: the same user and the same `me` answer as the project. */
export const SDL = /* GraphQL */ `
  enum Role {
    USER
    ADMIN
  }
  type User {
    id: ID!
    email: String!
    roles: [Role!]!
  }
  type Query {
    me: User
  }
`;

export interface BenchUser {
  id: string;
  email: string;
  roles: string[];
}

export const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

/** The in-memory "database" every comparison server reads from. */
export const usersById = () =>
  new Map<string, BenchUser>([
    [
      env('BENCH_USER_ID'),
      { id: env('BENCH_USER_ID'), email: env('BENCH_USER_EMAIL'), roles: ['USER'] },
    ],
  ]);

export const announce = (port: number) => process.stdout.write(`ready ${port}\n`);

// Exit normally on SIGTERM so `--cpu-prof` can write its profile.
process.once('SIGTERM', () => process.exit(0));
