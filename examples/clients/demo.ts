/**
 * The command-line run every recipe shares: sign in, ask who we are, sign out, and say what
 * happened. Tokens are never printed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

export interface User {
  id: string;
  email: string;
}

/** What each recipe's factory takes. */
export interface DemoOptions {
  url: string;
  /** Called with the new tokens after login and each refresh, and with null after logout. */
  onTokens: (tokens: object | null) => void;
}

/** What each recipe's factory returns. */
export interface RecipeClient {
  login(email: string, password: string): Promise<User>;
  me(): Promise<User | null>;
  logout(): Promise<boolean>;
}

/** True when `moduleUrl` (a recipe's `import.meta.url`) is the script node was started with. */
export const isMain = (moduleUrl: string) =>
  process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;

export async function runDemo(name: string, createClient: (options: DemoOptions) => RecipeClient) {
  const url = process.env.API_URL ?? 'http://127.0.0.1:4000/graphql';
  const { EMAIL: email, PASSWORD: password } = process.env;
  // Set past the server's ACCESS_TOKEN_TTL to see the refresh.
  const waitSeconds = Number(process.env.WAIT_SECONDS ?? 0);
  if (!email || !password) {
    console.error('Set EMAIL and PASSWORD; optional: API_URL, WAIT_SECONDS.');
    process.exitCode = 2;
    return;
  }
  let signedIn = false;
  const client = createClient({
    url,
    onTokens: (tokens) => {
      if (signedIn && tokens) console.log('   (access token expired: refreshed, then retried)');
    },
  });
  console.log(`${name} → ${url}`);
  try {
    const user = await client.login(email, password);
    signedIn = true;
    console.log(`1. login: signed in as ${user.email} (id ${user.id})`);
    if (waitSeconds > 0) {
      console.log(`   waiting ${waitSeconds} s`);
      await sleep(waitSeconds * 1000);
    }
    const me = await client.me();
    console.log(`2. me: ${me ? `${me.email} (id ${me.id})` : 'null'}`);
    console.log(`3. logout: ${await client.logout()}`);
  } catch (error) {
    // The message only: error objects can hold the request, and so a password or token.
    console.error(`failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    process.exitCode = 1;
  }
}
