import { redactUri, scrubSecrets } from './redact.js';

const MARKER_PREFIX = '@yoink/storage-core:error:';

function markerFor(code: string): symbol {
  return Symbol.for(MARKER_PREFIX + code);
}

/** Options accepted by every storage error. */
export interface StorageErrorOptions {
  /** The checkpoint's URI or path. It is redacted before it is stored. */
  uri?: string | undefined;
  /** The underlying error (an OS, SDK or client error). */
  cause?: unknown;
}

/**
 * The base of every error this library and its backends throw.
 *
 * - `code` is stable across versions (`'ERR_YOINK_STORAGE'`, …): branch on it.
 * - `uri` is the checkpoint's location with credentials redacted.
 * - `cause` is the underlying error, when there is one.
 *
 * Use the static `isInstance(e)` rather than `instanceof`: it also recognises
 * errors thrown by another copy of `@yoink/storage-core` (CJS next to ESM, or
 * two versions in one `node_modules`).
 *
 * @example
 * ```ts
 * try { await storage.flush(); }
 * catch (e) { if (ConcurrentWriterError.isInstance(e)) stopCrawl(); else throw e; }
 * ```
 */
export class StorageError extends Error {
  /** Stable code of this error class. */
  static readonly code: string = 'ERR_YOINK_STORAGE';
  /** Stable code of this error (see each class's static `code`). */
  readonly code: string;
  /** The checkpoint's location, credentials redacted. */
  readonly uri: string | undefined;
  /**
   * `true` when trying again later may succeed without changing anything
   * (the server was unreachable, restarting or throttling). The data of a
   * failed flush is kept either way.
   */
  readonly retryable: boolean = false;

  constructor(message: string, options: StorageErrorOptions = {}) {
    const rawUri = options.uri;
    const safeMessage = scrubSecrets(message, rawUri);
    scrubCause(options.cause, rawUri);
    super(safeMessage, options.cause === undefined ? undefined : { cause: options.cause });
    const ctor = new.target as unknown as typeof StorageError;
    this.name = ctor.name;
    this.code = ctor.code;
    this.uri = rawUri === undefined ? undefined : redactUri(rawUri);
    // Mark this instance with the code of its class and of every ancestor, so
    // `isInstance` works across copies of core where `instanceof` does not.
    let c: unknown = ctor;
    while (typeof c === 'function' && Object.hasOwn(c, 'code')) {
      (this as unknown as Record<symbol, boolean>)[markerFor((c as typeof StorageError).code)] =
        true;
      c = Object.getPrototypeOf(c);
    }
  }

  /**
   * `true` when `e` is an error of this class (or a subclass), from any copy of
   * `@yoink/storage-core`.
   */
  static isInstance<T extends typeof StorageError>(this: T, e: unknown): e is InstanceType<T> {
    return (
      typeof e === 'object' &&
      e !== null &&
      (e as Record<symbol, unknown>)[markerFor(this.code)] === true
    );
  }
}

/**
 * The URI or path cannot name a checkpoint: unknown syntax, missing bucket or
 * key, bad option value. Thrown when the storage is created, never later.
 */
export class InvalidUriError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_INVALID_URI';
}

/**
 * An option has an unknown name (the message suggests the nearest known one),
 * a value of the wrong type or out of range, or contradicts the URI. Thrown
 * when the storage is created, never later.
 */
export class InvalidOptionError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_INVALID_OPTION';
  /** The option at fault, when one is. */
  readonly option: string | undefined;
  /** For an unknown option: the names the storage knows (so a caller can drop options meant for another backend). */
  readonly known: readonly string[] | undefined;

  constructor(
    message: string,
    options: StorageErrorOptions & { option?: string; known?: readonly string[] } = {},
  ) {
    super(message, options);
    this.option = options.option;
    this.known = options.known;
  }
}

/**
 * The server could not be reached, or kept failing (restarting, throttling,
 * 5xx) past the backend's retry budget. `retryable` is `true`: the data of a
 * failed flush is kept, and a later `flush()` may succeed.
 */
export class StorageUnavailableError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_UNAVAILABLE';
  override readonly retryable: boolean = true;
}

/**
 * The server refused the credentials or a permission (access denied, an ACL
 * refusal). The message names the permission that is missing.
 */
export class StoragePermissionError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_PERMISSION';
}

/**
 * The server does not enforce the conditional writes the backend relies on to
 * refuse a second writer (an S3-compatible endpoint that ignores `If-Match` /
 * `If-None-Match`, or answers `NotImplemented` to them). Nothing was written.
 * The message names the endpoint and the explicit opt-out.
 */
export class ConditionalWritesUnsupportedError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_CONDITIONS_UNSUPPORTED';
}

/** `write()` or `flush()` was called after `close()`. */
export class StorageClosedError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_STORAGE_CLOSED';
}

/**
 * Another writer holds or changed the checkpoint (a held lock, an S3
 * precondition that failed, a Redis fence owned by someone else). Nothing was
 * overwritten; the data of the rejected call is kept in this instance's buffer.
 */
export class ConcurrentWriterError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_CONCURRENT_WRITER';
}

/** No backend is installed for the URI's scheme. The message names the package to install. */
export class BackendNotInstalledError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_BACKEND_NOT_INSTALLED';
  /** The scheme that was asked for, lower-cased. */
  readonly scheme: string;
  /** The package names that were tried, in order. */
  readonly packages: readonly string[];

  constructor(
    message: string,
    options: StorageErrorOptions & { scheme: string; packages: readonly string[] },
  ) {
    super(message, options);
    this.scheme = options.scheme;
    this.packages = options.packages;
  }
}

/**
 * A backend package is installed but could not be loaded (it threw while
 * importing, or it did not register the scheme it is named after). `cause`
 * holds the loader's error.
 */
export class BackendLoadError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_BACKEND_LOAD';
  /** The package that failed to load. */
  readonly packageName: string;

  constructor(message: string, options: StorageErrorOptions & { packageName: string }) {
    super(message, options);
    this.packageName = options.packageName;
  }
}

/** A scheme was registered twice without `{ override: true }`. */
export class SchemeAlreadyRegisteredError extends StorageError {
  static override readonly code: string = 'ERR_YOINK_SCHEME_REGISTERED';
}

/**
 * Client libraries sometimes echo the connection string in their errors; the
 * cause is printed with the error (`console.error`, `util.inspect` print its
 * own properties too, such as a `TypeError`'s `input`), so scrub the URI's
 * secrets from every string property of every error down the cause chain
 * (and in an `AggregateError`'s `errors`).
 */
function scrubCause(cause: unknown, uri: string | undefined): void {
  if (!uri) return;
  const seen = new Set<unknown>();
  const queue: unknown[] = [cause];
  while (queue.length > 0 && seen.size < 20) {
    const c = queue.shift();
    if (typeof c !== 'object' || c === null || seen.has(c)) continue;
    seen.add(c);
    for (const name of Object.getOwnPropertyNames(c)) {
      try {
        const value = (c as Record<string, unknown>)[name];
        if (typeof value === 'string') {
          const scrubbed = scrubSecrets(value, uri);
          if (scrubbed !== value) (c as Record<string, unknown>)[name] = scrubbed;
        } else if (name === 'cause' || name === 'errors') {
          if (Array.isArray(value)) queue.push(...value);
          else queue.push(value);
        }
      } catch {
        // A frozen or exotic error: leave that property.
      }
    }
  }
}

/** A short description of an unknown thrown value, for messages. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'object' && cause !== null && 'message' in cause) {
    return String((cause as { message: unknown }).message);
  }
  return String(cause);
}
