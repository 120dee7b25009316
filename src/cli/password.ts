import { CliError } from './database.js';

/** More than any password the policy accepts (72 bytes); the rest is not read. */
const MAX_INPUT_BYTES = 4096;

async function fromPipe(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_INPUT_BYTES) break;
  }
  // One line ending, as `echo` and here-strings add; spaces are password characters.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** One line typed at the terminal, not echoed. */
function hidden(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (text: string) => {
      for (const char of text) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled'));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    input.on('data', onData);
  });
}

/** The password for create-admin: from stdin, never from the command line. */
export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const password = await fromPipe();
    if (password === '') {
      throw new CliError(
        'no password on stdin: pipe it in, e.g. printf %s "$PASSWORD" | npm run admin -- create-admin <email>',
      );
    }
    return password;
  }
  const password = await hidden('Password: ');
  if ((await hidden('Password again: ')) !== password) {
    throw new CliError('the two passwords differ');
  }
  return password;
}
