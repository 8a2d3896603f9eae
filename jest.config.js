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
    // test/security: attacks on the whole gateway, each a fault that once held (issue 12).
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/security/**/*.test.ts'],
      // Several gateway processes share one database only on PostgreSQL (PGlite is in-process): the scale-out
      // test is collected when DATABASE_URL names one, as in .ci/run's PostgreSQL step.
      testPathIgnorePatterns: process.env.DATABASE_URL ? [] : ['<rootDir>/test/integration/scale-out.test.ts'],
    },
    // Tests against material the project did not write and does not ship (../shared: the public corpus, the
    // bug-report inputs, the MedCom packages). A fresh clone has no ../shared, so `npm test` leaves this project
    // out; `npm run test:conformance` (run by .ci/run) fails when ../shared is missing.
    { ...common, displayName: 'conformance', testMatch: ['<rootDir>/test/conformance/**/*.test.ts'] },
    // Pages tested in a real browser (Debian's chromium through playwright-core): `npm run test:browser`, run by
    // .ci/run after it installs chromium when missing; `npm test` needs no browser.
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] },
  ],
  // A gateway under test starts an embedded PostgreSQL and indexes the FHIR definitions: seconds, not ms, and
  // tens of seconds on a loaded 2-core machine, where a set-up starting three gateways passed 60 s. The limit
  // only stops a hang; no test asserts on time.
  testTimeout: 180000,
  // Some library handle outlives the last test file (a run ended with "Jest did not exit one second after the
  // test run has completed" and no exit): end the process once every test has finished, so CI cannot hang.
  // Finding the handle (--detectOpenHandles) is open work; each test file closes its gateways in afterAll.
  forceExit: true,
  // Each test file starts gateways with an embedded PostgreSQL (PGlite's WebAssembly heap) and the FHIR
  // definitions; not all of that is returned between files. A worker that holds more than this after a file is
  // replaced by a fresh one. With --runInBand (the npm scripts) Jest 30 runs the files in its own process and this
  // has no effect: .ci/run splits the long Node 24 run into shards (--shard) for that reason.
  workerIdleMemoryLimit: '1GB',
};
