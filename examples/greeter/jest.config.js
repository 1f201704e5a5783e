// swc strips the TypeScript types of the test and the lesson; kubelab itself is plain JavaScript.
export default {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testEnvironment: 'node',
  // Jest 30's global cleanup recurses forever on @kubernetes/client-node's module globals.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
};
