/** What every benchmark scenario shares: medians, target verdicts, and running on its own. */
import { pathToFileURL } from 'node:url';

export interface TargetResult {
  readonly scenario: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The value below which `p` percent of the values fall (the largest, with few values). */
export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

export function printTargets(results: readonly TargetResult[]) {
  for (const result of results) {
    console.log(`target ${result.target}: ${result.measured} → ${result.met ? 'met' : 'NOT met'}`);
  }
}

/** True when the module was started directly (npm run bench:<scenario>), not by the suite. */
export const isEntryPoint = (moduleUrl: string) =>
  process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
