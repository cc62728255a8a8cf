import { startAzurite } from '@yoink/test-servers/azurite';
import { describe } from 'vitest';
import { describeCpRoundTrip } from './round-trip.js';

const CONTAINER = 'yoink-cli';

describe('yoink-storage cp between local files and Azure Blob Storage (Azurite)', () => {
  describeCpRoundTrip(async () => {
    const server = await startAzurite({ containers: [CONTAINER] });
    return {
      backend: {
        // The CLI never imports @yoink/storage-azure: fromUri finds it for azblob://,
        // and the storage finds its credentials in the environment.
        uri: (name) => `azblob://${CONTAINER}/cli/${name}.jsonl`,
        env: { AZURE_STORAGE_CONNECTION_STRING: server.connectionString },
      },
      stop: () => server.stop(),
    };
  });
});
