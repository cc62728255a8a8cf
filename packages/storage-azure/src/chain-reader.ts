import {
  azureError,
  deletedWhileReading,
  downloadBrokeOff,
  isBlobNotFound,
  isInvalidRange,
} from './azure-errors.js';
import { chainBlobName } from './blob-chain.js';
import { blobProperties, type ChainContext } from './chain-context.js';

/** The total length in a `Content-Range: bytes a-b/total` header. */
function totalOf(contentRange: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * `count` bytes of chain blob `index` from `offset`, in memory (for the
 * 1-byte tail read and for checking our own lost append: small or at most
 * one flush). A range past the end gives fewer bytes, or none: Azure answers
 * 416, Azurite 206 with 0 bytes.
 */
export async function readRange(
  ctx: ChainContext,
  index: number,
  offset: number,
  count: number,
): Promise<Buffer> {
  const name = chainBlobName(ctx.blob, index);
  let body: NodeJS.ReadableStream | undefined;
  try {
    body = (await ctx.container.getBlobClient(name).download(offset, count)).readableStreamBody;
  } catch (e) {
    if (isInvalidRange(e)) return Buffer.alloc(0);
    throw azureError('GetBlob', ctx.errors, e);
  }
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of body ?? []) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
    }
  } catch (e) {
    throw downloadBrokeOff(ctx.errors, name, offset + got, e);
  }
  return Buffer.concat(parts);
}

/**
 * Streams chain blob `index` from `offset` to its current end in ranged
 * downloads of `readRangeBytes`, yielding the body's chunks as they arrive
 * (memory: one chunk of the stream). Returns the offset reached, or
 * `undefined` when the blob does not exist at `offset` 0.
 *
 * @throws {StorageError} when the blob disappears part-way (a read that lost
 *   its data throws, it never ends early); the signal's `AbortError` as is.
 */
async function* readBlob(
  ctx: ChainContext,
  index: number,
  from: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer, number | undefined> {
  const client = ctx.container.getBlobClient(chainBlobName(ctx.blob, index));
  let offset = from;
  for (;;) {
    let body: NodeJS.ReadableStream | undefined;
    let total: number | undefined;
    try {
      const res = await client.download(offset, ctx.limits.readRangeBytes, {
        abortSignal: signal,
      });
      body = res.readableStreamBody;
      total = totalOf(res.contentRange);
    } catch (e) {
      if (signal?.aborted) throw e;
      if (isInvalidRange(e)) return offset;
      if (isBlobNotFound(e)) {
        if (offset === 0) return undefined;
        throw deletedWhileReading(ctx.errors, chainBlobName(ctx.blob, index), offset, e);
      }
      throw azureError('GetBlob', ctx.errors, e);
    }
    let got = 0;
    try {
      for await (const chunk of body ?? []) {
        got += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } catch (e) {
      // The caller's abort as is; a connection lost mid-body (which the SDK
      // also reports as an AbortError) is StorageUnavailableError.
      if (signal?.aborted) throw e;
      throw downloadBrokeOff(ctx.errors, chainBlobName(ctx.blob, index), offset + got, e);
    }
    offset += got;
    if (got === 0 || (total !== undefined && offset >= total)) return offset;
  }
}

/**
 * Streams the checkpoint: every blob of the chain in order, each to its end.
 * A missing checkpoint yields nothing.
 *
 * Before moving to the next blob, the one just read is measured again: the
 * next blob exists only once this one was full, so it is sealed by then, and
 * anything appended to it between our last download and that moment is read
 * first. Costs one property read per blob boundary (and one at the end).
 */
export async function* readChain(
  ctx: ChainContext,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  for (let index = 0; ; index++) {
    let offset = yield* readBlob(ctx, index, 0, signal);
    if (offset === undefined) {
      if (index === 0) return;
      throw deletedWhileReading(ctx.errors, chainBlobName(ctx.blob, index), 0);
    }
    if ((await blobProperties(ctx, index + 1)) === undefined) return;
    const sealed = (await blobProperties(ctx, index))?.contentLength ?? offset;
    if (sealed > offset) {
      offset = yield* readBlob(ctx, index, offset, signal);
    }
  }
}
