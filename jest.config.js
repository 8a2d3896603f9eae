/**
 * Two projects so `npm run test:unit` needs neither Redis nor a database. PGlite loads its WebAssembly with
 * a dynamic import(), which jest only allows under --experimental-vm-modules (set in the npm scripts).
 */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
  ],
  // A gateway under test starts an embedded PostgreSQL and indexes the FHIR definitions: seconds, not ms.
  testTimeout: 60000,
};
