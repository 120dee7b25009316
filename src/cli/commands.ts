import { ROLES, type Role } from '../modules/user/user.model.js';
import type { AccountSummary, AdminService } from '../modules/user/admin.service.js';

export const USAGE = `Usage: npm run admin -- <command> [arguments]

Commands:
  create-admin <email>               create an account with ADMIN; the password is read from
                                     stdin (piped, or typed twice at a terminal), never from argv
  grant <email> <role>               give the account a role (USER or ADMIN)
  revoke <email> <role>              take a role away (every account keeps USER)
  disable <email>                    disable the account: its sessions end, it cannot sign in
  enable <email>                     enable a disabled account
  list [--role <role>] [--disabled]  list accounts in sign-up order
  --help                             show this help

Reads the server's configuration (the environment and .env). Without MONGODB_URI it uses the
embedded database in DATA_DIR: through the running server if there is one, otherwise it starts
the database for the command. Exit status: 0 done, 1 refused or failed, 2 usage error.
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export type Command =
  | { name: 'help' }
  | { name: 'create-admin'; email: string }
  | { name: 'grant' | 'revoke'; email: string; role: Role }
  | { name: 'disable' | 'enable'; email: string }
  | { name: 'list'; role?: Role; disabled: boolean };

function role(value: string | undefined): Role {
  const upper = value?.toUpperCase();
  if (!ROLES.some((known) => known === upper)) {
    throw new UsageError(`role must be one of ${ROLES.join(', ')}`);
  }
  return upper as Role;
}

function expectArgs(args: readonly string[], names: readonly string[], command: string) {
  if (args.length !== names.length) {
    throw new UsageError(`${command} takes ${names.map((name) => `<${name}>`).join(' ')}`);
  }
}

/** The command argv names; UsageError for anything else. */
export function parseCommand(argv: readonly string[]): Command {
  const [name, ...args] = argv;
  switch (name) {
    case undefined:
      throw new UsageError('no command given');
    case '--help':
    case '-h':
    case 'help':
      return { name: 'help' };
    case 'create-admin':
    case 'disable':
    case 'enable':
      expectArgs(args, ['email'], name);
      return { name, email: args[0] as string };
    case 'grant':
    case 'revoke':
      expectArgs(args, ['email', 'role'], name);
      return { name, email: args[0] as string, role: role(args[1]) };
    case 'list': {
      const command: Command = { name: 'list', disabled: false };
      for (let i = 0; i < args.length; i += 1) {
        if (args[i] === '--disabled') command.disabled = true;
        else if (args[i] === '--role') command.role = role(args[++i]);
        else throw new UsageError(`list does not take ${args[i]}`);
      }
      return command;
    }
    default:
      throw new UsageError(`unknown command: ${name}`);
  }
}

function table(accounts: readonly AccountSummary[]) {
  const rows = [
    ['ID', 'EMAIL', 'ROLES', 'STATUS', 'CREATED'],
    ...accounts.map((account) => [
      account.id,
      account.email,
      account.roles.join(','),
      account.disabled ? 'disabled' : 'active',
      account.createdAt.toISOString(),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

const rolesOf = (roles: readonly Role[]) => roles.join(', ');

/** Runs a command through the service the API uses; returns the lines to print. */
export async function runCommand(
  command: Exclude<Command, { name: 'help' }>,
  admin: AdminService,
  password: () => Promise<string>,
): Promise<string[]> {
  switch (command.name) {
    case 'create-admin': {
      const user = await admin.createAdmin(command.email, await password());
      return [`created ${user.email} with roles ${rolesOf(user.roles)} (id ${user.id})`];
    }
    case 'grant':
    case 'revoke': {
      const account = await admin.findByEmail(command.email);
      const change = command.name === 'grant' ? admin.grant : admin.revoke;
      const user = await change('operator', account.id, command.role);
      return [`${user.email} has roles ${rolesOf(user.roles)}`];
    }
    case 'disable':
    case 'enable': {
      const account = await admin.findByEmail(command.email);
      const change = command.name === 'disable' ? admin.disable : admin.enable;
      const user = await change('operator', account.id);
      return [
        command.name === 'disable'
          ? `disabled ${user.email}: its sessions have ended and it cannot sign in`
          : `enabled ${user.email}`,
      ];
    }
    case 'list': {
      const found: AccountSummary[] = [];
      for await (const account of admin.accounts()) {
        if (command.role && !account.roles.includes(command.role)) continue;
        if (command.disabled && !account.disabled) continue;
        found.push(account);
      }
      const count = `${found.length} account${found.length === 1 ? '' : 's'}`;
      return found.length === 0 ? [count] : [...table(found), count];
    }
  }
}
