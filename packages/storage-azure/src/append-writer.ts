import type { AppendBlobClient, BlobGetPropertiesResponse } from '@azure/storage-blob';
import { debugLog, type OpenResult } from '@yoink/storage-core';
import {
  azureError,
  concurrentWriter,
  isAppendPositionConflict,
  isBlobAlreadyExists,
  isBlobNotFound,
  notAppendBlob,
} from './azure-errors.js';
import { chainBlobName, findLast } from './blob-chain.js';
import { blobProperties, type ChainContext } from './chain-context.js';
import { readRange } from './chain-reader.js';

/**
 * Appends a writer's flushes to the checkpoint's chain of append blobs,
 * exactly once:
 *
 * - every AppendBlock carries `appendPosition` = the length this writer
 *   knows, so the service refuses (412) an append at a stale position: a
 *   second writer's, or the retry of our own append whose reply was lost;
 * - a 412 is our own append when the blob's new bytes at that position are
 *   exactly the bytes we were appending (read back, at most one flush); then
 *   it is success, otherwise `ConcurrentWriterError`;
 * - a flush larger than a block is split into blocks; when one block fails,
 *   the blocks before it are remembered as persisted, so the retried flush
 *   does not append them again;
 * - a blob holding `maxBlocks` blocks is full: the next block goes to the
 *   next blob of the chain, created with `If-None-Match: *`.
 *
 * No flush downloads the checkpoint: opening costs O(log n) property reads
 * and a 1-byte ranged read, and a flush costs one request per 4 MiB block.
 */
export class AppendWriter {
  readonly #ctx: ChainContext;
  /** The chain blob appended to. */
  #index = 0;
  /** Whether blob #index exists (created by us or found at open). */
  #exists = false;
  /** Its length as this writer knows it: the next append position. */
  #length = 0;
  /** Its committed block count as this writer knows it. */
  #blocks = 0;
  /** Bytes at the start of the next flush's data already appended (a flush that failed part-way). */
  #skip = 0;

  constructor(ctx: ChainContext) {
    this.#ctx = ctx;
  }

  #client(index: number): AppendBlobClient {
    return this.#ctx.container.getAppendBlobClient(chainBlobName(this.#ctx.blob, index));
  }

  #properties(index: number): Promise<BlobGetPropertiesResponse | undefined> {
    return blobProperties(this.#ctx, index);
  }

  #checkType(index: number, props: BlobGetPropertiesResponse): void {
    if (props.blobType !== 'AppendBlob') {
      throw notAppendBlob(this.#ctx.errors, chainBlobName(this.#ctx.blob, index), props.blobType);
    }
  }

  /**
   * Finds the chain's last blob, its length and block count, and whether the
   * checkpoint ends in a torn line (a 1-byte ranged read of its last byte).
   */
  async open(): Promise<OpenResult> {
    const last = await findLast((i) => this.#properties(i));
    if (last === undefined) {
      this.#index = 0;
      this.#exists = false;
      this.#length = 0;
      this.#blocks = 0;
      debugLog('%s: no blob yet; the first flush creates it', this.#ctx.safeUri);
      return { tornTail: false };
    }
    this.#checkType(last.index, last.value);
    this.#index = last.index;
    this.#exists = true;
    this.#length = last.value.contentLength ?? 0;
    this.#blocks = last.value.blobCommittedBlockCount ?? 0;
    debugLog(
      '%s: appending to %s at %d bytes, %d blocks',
      this.#ctx.safeUri,
      chainBlobName(this.#ctx.blob, this.#index),
      this.#length,
      this.#blocks,
    );
    // The checkpoint's last byte: in this blob, or (an empty blob just rolled
    // over to) the full one before it.
    let index = this.#index;
    let length = this.#length;
    if (length === 0 && index > 0) {
      index -= 1;
      length = (await this.#properties(index))?.contentLength ?? 0;
    }
    if (length === 0) return { tornTail: false };
    const last1 = await readRange(this.#ctx, index, length - 1, 1);
    // An empty answer (Azurite: 206 with 0 bytes; Azure: 416) means no byte there.
    return { tornTail: last1.length === 1 && last1[0] !== 0x0a };
  }

  /**
   * Appends `data` (UTF-8), all of it or, on failure, a prefix that the next
   * call skips: the base class passes the failed data again at the start of
   * the next flush.
   */
  async persist(data: string): Promise<void> {
    const bytes = Buffer.from(data, 'utf8');
    let offset = Math.min(this.#skip, bytes.length);
    const { blockBytes, maxBlocks } = this.#ctx.limits;
    while (offset < bytes.length) {
      if (!this.#exists) {
        await this.#create(this.#index);
      } else if (this.#blocks >= maxBlocks) {
        debugLog(
          '%s: %s holds %d blocks; rolling over to %s',
          this.#ctx.safeUri,
          chainBlobName(this.#ctx.blob, this.#index),
          this.#blocks,
          chainBlobName(this.#ctx.blob, this.#index + 1),
        );
        await this.#create(this.#index + 1);
      }
      const rest = bytes.subarray(offset);
      offset += await this.#append(rest.subarray(0, blockBytes), rest);
      this.#skip = offset;
    }
    this.#skip = 0;
  }

  /** Creates chain blob `index` with `If-None-Match: *` and makes it the one appended to. */
  async #create(index: number): Promise<void> {
    const name = chainBlobName(this.#ctx.blob, index);
    try {
      await this.#client(index).create({ conditions: { ifNoneMatch: '*' } });
    } catch (e) {
      if (!isBlobAlreadyExists(e)) throw azureError('PutBlob', this.#ctx.errors, e);
      // Our own create whose reply was lost, or another writer's. An empty
      // append blob holds no data, so it can be used: the append position
      // decides whose data lands. One with data is another writer's.
      const props = await this.#properties(index);
      if (props === undefined) {
        throw concurrentWriter(this.#ctx.errors, `${name} was created and deleted meanwhile`, e);
      }
      this.#checkType(index, props);
      if ((props.contentLength ?? 0) > 0) {
        throw concurrentWriter(
          this.#ctx.errors,
          `${name} was created and written (${props.contentLength} bytes) by another writer since this one opened the checkpoint`,
          e,
        );
      }
      debugLog('%s: %s already exists, empty: appending to it', this.#ctx.safeUri, name);
    }
    this.#index = index;
    this.#exists = true;
    this.#length = 0;
    this.#blocks = 0;
  }

  /**
   * Appends `block` at the known position. Returns how many bytes of `rest`
   * (which starts with `block`) are now persisted: `block.length`, or, when
   * a 412 turns out to be our own earlier append, what that append wrote.
   */
  async #append(block: Buffer, rest: Buffer): Promise<number> {
    const position = this.#length;
    try {
      const r = await this.#client(this.#index).appendBlock(block, block.length, {
        conditions: { appendPosition: position },
      });
      this.#length = position + block.length;
      this.#blocks = r.blobCommittedBlockCount ?? this.#blocks + 1;
      return block.length;
    } catch (e) {
      if (isBlobNotFound(e)) {
        throw concurrentWriter(
          this.#ctx.errors,
          `${chainBlobName(this.#ctx.blob, this.#index)} was deleted while this writer was appending to it`,
          e,
        );
      }
      if (!isAppendPositionConflict(e)) throw azureError('AppendBlock', this.#ctx.errors, e);
      const own = await this.#ownAppend(position, rest);
      if (own > 0) return own;
      throw concurrentWriter(
        this.#ctx.errors,
        `${chainBlobName(this.#ctx.blob, this.#index)} no longer ends at byte ${position}, where this writer appends (AppendPositionConditionNotMet), and the bytes there are not this writer's`,
        e,
      );
    }
  }

  /**
   * After a 412: if the blob grew past `position` and the bytes there are
   * exactly the first bytes we are appending, an earlier attempt of ours
   * landed (its reply was lost and the SDK, or the next flush, retried it).
   * Those bytes are then in the checkpoint once, in order: returns how many
   * and moves the position past them. Otherwise returns 0.
   *
   * Only bytes are compared, and that is enough here: whoever wrote them,
   * the checkpoint holds exactly our bytes at exactly our position, once.
   * Anything after them is another writer's, and the next append (at a
   * position that is then stale) is refused.
   */
  async #ownAppend(position: number, rest: Buffer): Promise<number> {
    const props = await this.#properties(this.#index);
    const grown = (props?.contentLength ?? 0) - position;
    if (props === undefined || grown <= 0) return 0;
    const n = Math.min(grown, rest.length);
    const there = await readRange(this.#ctx, this.#index, position, n);
    if (there.length !== n || !there.equals(rest.subarray(0, n))) return 0;
    debugLog(
      '%s: append at %d was refused (412) but its %d bytes are already there: our own append whose reply was lost, not a second writer',
      this.#ctx.safeUri,
      position,
      n,
    );
    this.#length = position + n;
    this.#blocks = props.blobCommittedBlockCount ?? this.#blocks + 1;
    return n;
  }
}
