/**
 * Runs in the password-hashing worker threads (see password.ts). bcrypt's synchronous calls block
 * only this thread, which the pool starts at a lower CPU priority than the event loop. Plain
 * JavaScript, so the worker starts without a TypeScript loader wherever the service runs.
 */
import bcrypt from 'bcrypt';

/**
 * @param {{ op: 'hash'; password: string; cost: number } | { op: 'compare'; password: string; hash: string }} task
 * @returns {string | boolean}
 */
export default function run(task) {
  return task.op === 'hash'
    ? bcrypt.hashSync(task.password, task.cost)
    : bcrypt.compareSync(task.password, task.hash);
}
