// swc strips types only; `npm run typecheck` is the type gate.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] };
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
  // Jest 30's global cleanup recurses forever on @kubernetes/client-node's module globals.
  testEnvironmentOptions: { globalsCleanup: 'off' },
};
export default {
  // Many tests start kubelab or docker as child processes: on a loaded 2-core machine one start alone
  // can take seconds. A test that waits on a cluster sets its own, longer timeout.
  testTimeout: 30_000,
  // Jest repeats the failing tests after the totals only above 20 files by default: a CI log's tail
  // must name the failing test and its assertion whatever the count.
  reporters: [['default', { summaryThreshold: 0 }]],
  // CLI tests run dist/: it is rebuilt first whenever a source is newer.
  globalSetup: '<rootDir>/test/support/fresh-dist.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // Integration tests drive a real dockerd, real clusters and real HTTP servers.
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // Real k3d clusters: they hold host ports (8081, 6550), so scripts/test.sh runs them one at a time.
    { ...common, displayName: 'cluster', testMatch: ['<rootDir>/test/cluster/**/*.test.ts'] },
  ],
};
