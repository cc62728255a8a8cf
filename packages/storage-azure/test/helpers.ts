import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { inject } from 'vitest';
import { AzureBlobStorage, type AzureBlobStorageOptions } from '../src/index.js';
import { type AzureLimits, LIMITS } from '../src/limits.js';

/** The Azurite started by test/azurite-setup.ts. */
export const azurite = inject('azurite');

/** Retries short enough that a test of an unreachable or failing server ends in well under a second. */
export const FAST_RETRIES: StoragePipelineOptions = {
  retryOptions: { maxTries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
};

/** Azurite's connection string, pointed at `endpoint` (a proxy, a dead port) instead. */
export function connectionStringFor(endpoint: string = azurite.endpoint): string {
  return azurite.connectionString.replace(/BlobEndpoint=[^;]*/, `BlobEndpoint=${endpoint}`);
}

/** A client of the test Azurite, for set-up and inspection (not the storage under test). */
export const service: BlobServiceClient = BlobServiceClient.fromConnectionString(
  azurite.connectionString,
);

/** Creates a container on the test Azurite (once per test file). */
export async function createContainer(name: string): Promise<void> {
  await service.getContainerClient(name).createIfNotExists();
}

/** The names of the blobs under `prefix` in `container`. */
export async function blobNames(container: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of service.getContainerClient(container).listBlobsFlat({ prefix })) {
    names.push(b.name);
  }
  return names;
}

/** The content of one blob, as text. */
export async function blobText(container: string, name: string): Promise<string> {
  const buf = await service.getContainerClient(container).getBlobClient(name).downloadToBuffer();
  return buf.toString('utf8');
}

/** Options with test-only limits (smaller blocks, earlier rollover). */
export function withLimits(
  options: AzureBlobStorageOptions,
  limits: Partial<AzureLimits>,
): AzureBlobStorageOptions {
  return { ...options, [LIMITS]: limits } as AzureBlobStorageOptions;
}

/** A storage on the test Azurite (or on `endpoint`), with short retries. */
export function storageAt(
  container: string,
  blob: string,
  options: AzureBlobStorageOptions & { endpoint?: string } = {},
): AzureBlobStorage {
  const { endpoint, ...rest } = options;
  return new AzureBlobStorage(`azblob://${container}/${blob}`, {
    connectionString: connectionStringFor(endpoint),
    clientOptions: FAST_RETRIES,
    ...rest,
  });
}
