import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Most tests run the CLI as child processes, several per test, next to
    // real servers: on a loaded 2-core machine vitest's 5 s default is too
    // tight. A hung CLI is caught sooner by each run's own bound (runCli's
    // timeout), which fails the test with what the CLI printed.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The CLI passes the AWS SDK's NodeVersionSupportWarning through to its
    // users (docs/runtimes.md); the tests, which compare stderr exactly and
    // also run on Node 20, turn it off for the processes they start.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
