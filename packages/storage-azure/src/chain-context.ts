import type { BlobGetPropertiesResponse, ContainerClient } from '@azure/storage-blob';
import { azureError, type ErrorContext, isBlobNotFound } from './azure-errors.js';
import { chainBlobName } from './blob-chain.js';
import type { AzureLimits } from './limits.js';

/** What the writer and the reader share. */
export interface ChainContext {
  readonly container: ContainerClient;
  /** The first blob's name (the URI's blob path). */
  readonly blob: string;
  readonly limits: AzureLimits;
  readonly errors: ErrorContext;
  /** The redacted URI, for debug lines. */
  readonly safeUri: string;
}

/** The properties of chain blob `index`, or `undefined` when it does not exist. */
export async function blobProperties(
  ctx: ChainContext,
  index: number,
): Promise<BlobGetPropertiesResponse | undefined> {
  try {
    return await ctx.container.getBlobClient(chainBlobName(ctx.blob, index)).getProperties();
  } catch (e) {
    if (isBlobNotFound(e)) return undefined;
    throw azureError('GetBlobProperties', ctx.errors, e);
  }
}
