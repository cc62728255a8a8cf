import { startAzurite } from '@yoink/test-servers/azurite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Azurite every test file of this package talks to (one container per file). */
    azurite: { connectionString: string; endpoint: string; account: string; accountKey: string };
  }
}

/** Starts one Azurite for the whole run and stops it at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite = await startAzurite();
  project.provide('azurite', {
    connectionString: azurite.connectionString,
    endpoint: azurite.endpoint,
    account: azurite.account,
    accountKey: azurite.accountKey,
  });
  return () => azurite.stop();
}
