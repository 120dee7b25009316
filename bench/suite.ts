/**
 * npm run bench — the five benchmark scenarios in one run, then every target and
 * whether this run met it. Each scenario interleaves its own variants, so its ratios compare
 * figures taken minutes apart at most, on the same machine state.
 *   1 auth overhead (bench:overhead), 2 scope cost (bench:scopes),
 *   3 login storm (bench:storm), 4 rate limiter (bench:ratelimit), 5 data at scale (bench:data).
 * Knobs: BENCH_ROUNDS, BENCH_SECONDS, STORM_SECONDS, DATA_SIZES, DATA_SAMPLES, MONGODB_URI (else an
 * embedded FerretDB).
 */
import os from 'node:os';
import { run as authOverhead } from './auth-overhead.js';
import { run as dataAtScale } from './data.js';
import { run as rateLimiter } from './rate-limit.js';
import { printTargets, type TargetResult } from './report.js';
import { run as scopeCost } from './scope-cost.js';
import { run as loginStorm } from './storm.js';

const scenarios: [string, () => Promise<TargetResult[]>][] = [
  ['1 auth overhead', authOverhead],
  ['2 scope cost', scopeCost],
  ['3 login storm', loginStorm],
  ['4 rate limiter', rateLimiter],
  ['5 data at scale', dataAtScale],
];

console.log(
  `npm run bench: node ${process.version}, openssl ${process.versions.openssl}, ${os.availableParallelism()} cores, ${new Date().toISOString()}`,
);
const results: TargetResult[] = [];
for (const [name, scenario] of scenarios) {
  console.log(`\n=== scenario ${name} ===`);
  results.push(...(await scenario()));
}
console.log('\n=== targets ===');
printTargets(
  results.map((result) => ({ ...result, target: `[${result.scenario}] ${result.target}` })),
);
const missed = results.filter((result) => !result.met).length;
console.log(`${results.length - missed} of ${results.length} targets met`);
