/**
 * Jest runs the TypeScript sources as native ES modules through ts-jest. Type checking is left to
 * `npm run typecheck` (isolatedModules), which keeps the test run fast.
 *
 * Pure-JavaScript tooling on purpose: Jest 30 (unrs-resolver) and SWC depend on per-platform
 * binary packages that some registries do not mirror, which breaks `npm ci` there.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  testTimeout: 30000,
  maxWorkers: 2,
};
