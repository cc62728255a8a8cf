import type { AppendBlobClient, BlobGetPropertiesResponse } from '@azure/storage-blob';
import { debugLog, type OpenResult, StorageError } from '@yoink/storage-core';
import {
  azureError,
  concurrentWriter,
  isAppendPositionConflict,
  isBlobAlreadyExists,
  isBlobNotFound,
  isConditionNotMet,
  notAppendBlob,
} from './azure-errors.js';
import { chainBlobName, findLast } from './blob-chain.js';
import { blobProperties, type ChainContext } from './chain-context.js';
import { readRange } from './chain-reader.js';
import { newWriterToken, withWriterToken, writerTokenOf } from './writer-token.js';

/**
 * Appends a writer's flushes to the checkpoint's chain of append blobs,
 * exactly once:
 *
 * - the writer has a random token; before its first append it claims the
 *   blob by setting the metadata `yoinkwriter=<token>` with `If-Match` = the
 *   ETag it saw when it opened the checkpoint (a blob it creates carries the
 *   token from the start: `If-None-Match: *`);
 * - every AppendBlock carries `If-Match` = the ETag of this writer's last
 *   change and `appendPosition` = the length this writer knows, so the
 *   service refuses (412) an append after any other change: a second
 *   writer's claim or append, or the retry of our own append whose reply
 *   was lost;
 * - a 412 is our own append only when the blob still carries our token (no
 *   other writer claimed it since), it grew by at most the bytes we are
 *   appending, and those bytes are ours (read back, at most one flush); then
 *   it is success, otherwise `ConcurrentWriterError`. Content alone never
 *   decides: another writer's byte-identical append is refused;
 * - a flush larger than a block is split into blocks; when one block fails,
 *   the blocks before it are remembered as persisted, so the retried flush
 *   does not append them again;
 * - a blob holding `maxBlocks` blocks is full: the next block goes to the
 *   next blob of the chain, created with `If-None-Match: *` and the token.
 *
 * No flush downloads the checkpoint: opening costs O(log n) property reads
 * and a 1-byte ranged read, the first flush one SetBlobMetadata (the claim),
 * and a flush one request per 4 MiB block.
 */
export class AppendWriter {
  readonly #ctx: ChainContext;
  /** This writer's token, in the metadata of every blob it appends to. */
  readonly #token: string = newWriterToken();
  /** The chain blob appended to. */
  #index = 0;
  /** Whether blob #index exists (created by us or found at open). */
  #exists = false;
  /** Its length as this writer knows it: the next append position. */
  #length = 0;
  /** Its committed block count as this writer knows it. */
  #blocks = 0;
  /** Its ETag after the last change this writer saw or made: every change is conditional on it. */
  #etag: string | undefined;
  /** Its metadata when opened (kept when the claim adds the token). */
  #metadata: Record<string, string> | undefined;
  /** Whether blob #index carries this writer's token (claimed or created by it). */
  #claimed = false;
  /** Bytes at the start of the next flush's data already appended (a flush that failed part-way). */
  #skip = 0;

  constructor(ctx: ChainContext) {
    this.#ctx = ctx;
  }

  #name(index: number = this.#index): string {
    return chainBlobName(this.#ctx.blob, index);
  }

  #client(index: number): AppendBlobClient {
    return this.#ctx.container.getAppendBlobClient(this.#name(index));
  }

  #properties(index: number): Promise<BlobGetPropertiesResponse | undefined> {
    return blobProperties(this.#ctx, index);
  }

  #checkType(index: number, props: BlobGetPropertiesResponse): void {
    if (props.blobType !== 'AppendBlob') {
      throw notAppendBlob(this.#ctx.errors, this.#name(index), props.blobType);
    }
  }

  /** The ETag of an answer: every later change is conditional on it, so it must be there. */
  #etagOf(answer: { etag?: string }, op: string): string {
    if (answer.etag === undefined || answer.etag === '') {
      throw new StorageError(
        `Azure answered ${op} on ${this.#ctx.errors.uri} without an ETag, so this writer cannot make its next append conditional on it; the service or a proxy in between drops the ETag header.`,
        { uri: this.#ctx.errors.uri },
      );
    }
    return answer.etag;
  }

  /** Makes blob `index` the one appended to, in the state `props` (or a create's answer) describes. */
  #adopt(index: number, length: number, blocks: number, etag: string, claimed: boolean): void {
    this.#index = index;
    this.#exists = true;
    this.#length = length;
    this.#blocks = blocks;
    this.#etag = etag;
    this.#claimed = claimed;
  }

  /**
   * Finds the chain's last blob, its length, block count and ETag, and
   * whether the checkpoint ends in a torn line (a 1-byte ranged read of its
   * last byte). Reads only: the claim waits for the first flush.
   */
  async open(): Promise<OpenResult> {
    const last = await findLast((i) => this.#properties(i));
    if (last === undefined) {
      this.#index = 0;
      this.#exists = false;
      this.#length = 0;
      this.#blocks = 0;
      this.#etag = undefined;
      this.#claimed = false;
      debugLog('%s: no blob yet; the first flush creates it', this.#ctx.safeUri);
      return { tornTail: false };
    }
    this.#checkType(last.index, last.value);
    this.#adopt(
      last.index,
      last.value.contentLength ?? 0,
      last.value.blobCommittedBlockCount ?? 0,
      this.#etagOf(last.value, 'GetBlobProperties'),
      false,
    );
    this.#metadata = last.value.metadata;
    debugLog(
      '%s: appending to %s at %d bytes, %d blocks',
      this.#ctx.safeUri,
      this.#name(),
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
          this.#name(),
          this.#blocks,
          this.#name(this.#index + 1),
        );
        await this.#create(this.#index + 1);
      } else if (!this.#claimed) {
        await this.#claim();
      }
      const rest = bytes.subarray(offset);
      offset += await this.#append(rest.subarray(0, blockBytes), rest);
      this.#skip = offset;
    }
    this.#skip = 0;
  }

  /**
   * Creates chain blob `index` with `If-None-Match: *`, carrying this
   * writer's token, and makes it the one appended to.
   */
  async #create(index: number): Promise<void> {
    const name = this.#name(index);
    let created: { etag?: string };
    try {
      created = await this.#client(index).create({
        conditions: { ifNoneMatch: '*' },
        metadata: withWriterToken(undefined, this.#token),
      });
    } catch (e) {
      if (!isBlobAlreadyExists(e)) throw azureError('PutBlob', this.#ctx.errors, e);
      // Our own create whose reply was lost (the SDK retried it), or another
      // writer's: the token tells, never the content.
      const props = await this.#properties(index);
      if (props === undefined) {
        throw concurrentWriter(this.#ctx.errors, `${name} was created and deleted meanwhile`, e);
      }
      this.#checkType(index, props);
      if (writerTokenOf(props.metadata) !== this.#token) {
        const length = props.contentLength ?? 0;
        throw concurrentWriter(
          this.#ctx.errors,
          `${name} was created by another writer since this one opened the checkpoint${length > 0 ? ` (it holds ${length} bytes)` : ''}`,
          e,
        );
      }
      debugLog(
        '%s: %s already exists with this writer’s token: our own create, whose reply was lost',
        this.#ctx.safeUri,
        name,
      );
      this.#adopt(
        index,
        props.contentLength ?? 0,
        props.blobCommittedBlockCount ?? 0,
        this.#etagOf(props, 'GetBlobProperties'),
        true,
      );
      return;
    }
    this.#adopt(index, 0, 0, this.#etagOf(created, 'PutBlob'), true);
  }

  /**
   * Claims blob #index for this writer: sets its metadata token with
   * `If-Match` = the ETag seen when opening, so the claim succeeds only if
   * nothing changed the blob since. From then on another writer's claim or
   * append changes the ETag, and ours are refused.
   */
  async #claim(): Promise<void> {
    const name = this.#name();
    const etag = this.#etag;
    let claimed: { etag?: string };
    try {
      claimed = await this.#client(this.#index).setMetadata(
        withWriterToken(this.#metadata, this.#token),
        { conditions: { ifMatch: etag } },
      );
    } catch (e) {
      if (isBlobNotFound(e)) {
        throw concurrentWriter(
          this.#ctx.errors,
          `${name} was deleted since this writer opened it`,
          e,
        );
      }
      if (!isConditionNotMet(e)) throw azureError('SetBlobMetadata', this.#ctx.errors, e);
      const props = await this.#properties(this.#index);
      if (props === undefined) {
        throw concurrentWriter(
          this.#ctx.errors,
          `${name} was deleted since this writer opened it`,
          e,
        );
      }
      const length = props.contentLength ?? 0;
      if (writerTokenOf(props.metadata) !== this.#token || length !== this.#length) {
        throw concurrentWriter(
          this.#ctx.errors,
          `${name} changed since this writer opened it at ${this.#length} bytes (it is now ${length} bytes long, its ETag is not the one this writer saw, and ${writerTokenOf(props.metadata) === undefined ? 'it carries no writer token' : 'it carries another writer’s token'})`,
          e,
        );
      }
      // Our own claim landed and its reply was lost (the SDK's retry was refused).
      debugLog(
        '%s: %s already carries this writer’s token: our own claim, whose reply was lost',
        this.#ctx.safeUri,
        name,
      );
      this.#etag = this.#etagOf(props, 'GetBlobProperties');
      this.#claimed = true;
      return;
    }
    this.#etag = this.#etagOf(claimed, 'SetBlobMetadata');
    this.#claimed = true;
    debugLog(
      '%s: claimed %s at %d bytes (writer token set, on the ETag seen when opening)',
      this.#ctx.safeUri,
      name,
      this.#length,
    );
  }

  /**
   * Appends `block` at the known position, conditional on the known ETag.
   * Returns how many bytes of `rest` (which starts with `block`) are now
   * persisted: `block.length`, or, when a 412 turns out to be our own
   * earlier append, what that append wrote.
   */
  async #append(block: Buffer, rest: Buffer): Promise<number> {
    const position = this.#length;
    let appended: { etag?: string; blobCommittedBlockCount?: number };
    try {
      appended = await this.#client(this.#index).appendBlock(block, block.length, {
        conditions: { appendPosition: position, ifMatch: this.#etag },
      });
    } catch (e) {
      if (isBlobNotFound(e)) {
        throw concurrentWriter(
          this.#ctx.errors,
          `${this.#name()} was deleted while this writer was appending to it`,
          e,
        );
      }
      if (!isAppendPositionConflict(e) && !isConditionNotMet(e)) {
        throw azureError('AppendBlock', this.#ctx.errors, e);
      }
      const own = await this.#ownAppend(position, rest);
      if (typeof own === 'number') return own;
      throw concurrentWriter(
        this.#ctx.errors,
        `${this.#name()} changed under this writer, which appends at byte ${position}: ${own}`,
        e,
      );
    }
    this.#etag = this.#etagOf(appended, 'AppendBlock');
    this.#length = position + block.length;
    this.#blocks = appended.blobCommittedBlockCount ?? this.#blocks + 1;
    return block.length;
  }

  /**
   * After a 412: an earlier attempt of ours landed (its reply was lost and
   * the SDK, or the next flush, retried it) only if the blob still carries
   * this writer's token (no other writer claimed it since: a claim replaces
   * the token), it grew past `position` by at most `rest.length` bytes, and
   * those bytes are the first bytes of `rest`. Then they are in the
   * checkpoint once, in order: returns how many, and moves the position and
   * ETag past them. Otherwise returns why not, for the error.
   */
  async #ownAppend(position: number, rest: Buffer): Promise<number | string> {
    const props = await this.#properties(this.#index);
    if (props === undefined) return 'the blob was deleted';
    const token = writerTokenOf(props.metadata);
    if (token !== this.#token) {
      return token === undefined
        ? 'its writer token was removed'
        : 'another writer has claimed it (its metadata carries another writer’s token)';
    }
    const length = props.contentLength ?? 0;
    const grown = length - position;
    if (grown <= 0 || grown > rest.length) {
      return `it is ${length} bytes long, where this writer's own append would have made it ${position + 1} to ${position + rest.length}`;
    }
    const there = await readRange(this.#ctx, this.#index, position, grown);
    if (!there.equals(rest.subarray(0, grown))) {
      return `the ${grown} bytes after byte ${position} are not the ones this writer appended`;
    }
    debugLog(
      '%s: append at %d was refused (412) but the blob carries this writer’s token and its %d bytes: our own append, whose reply was lost',
      this.#ctx.safeUri,
      position,
      grown,
    );
    this.#etag = this.#etagOf(props, 'GetBlobProperties');
    this.#length = length;
    this.#blocks = props.blobCommittedBlockCount ?? this.#blocks + 1;
    return grown;
  }
}
