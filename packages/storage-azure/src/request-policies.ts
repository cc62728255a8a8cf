import { PassThrough } from 'node:stream';
import { RestError } from '@azure/storage-blob';
import { debugEnabled, debugLog, redactUri } from '@yoink/storage-core';

/** Default of `requestTimeoutMs`: how long one try may wait for the service. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The error code of a try that timed out; the SDK's retry policy retries it like a network error. */
const REQUEST_TIMEOUT_CODE = 'ETIMEDOUT';

/** The part of an abort signal the SDK's requests carry (`AbortSignalLike`). */
interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The part of a pipeline request (`@azure/core-rest-pipeline`'s `PipelineRequest`) the policies use. */
interface RequestLike {
  url: string;
  method: string;
  abortSignal?: AbortSignalLike | undefined;
}

/** The part of a pipeline response the policies use. */
interface ResponseLike {
  status: number;
  headers: { get(name: string): string | undefined };
  readableStreamBody?: NodeJS.ReadableStream | undefined;
}

/** A pipeline policy (`PipelinePolicy`), typed structurally: the SDK does not export the type. */
export interface RequestPolicy {
  readonly name: string;
  sendRequest(
    request: RequestLike,
    next: (request: RequestLike) => Promise<ResponseLike>,
  ): Promise<ResponseLike>;
}

/** An entry of the client options' `additionalPolicies`. */
export interface AdditionalPolicy {
  policy: RequestPolicy;
  position: 'perCall' | 'perRetry';
}

function timeoutError(ms: number, what: string): RestError {
  return new RestError(
    `no answer within ${ms} ms ${what} (requestTimeoutMs): the connection is hung or the link is too slow; on a slow link, raise requestTimeoutMs`,
    { code: REQUEST_TIMEOUT_CODE },
  );
}

/**
 * Watches a streamed response body: when no byte arrives for `ms` while the
 * consumer is ready for more, the body is destroyed with a timeout error
 * (the SDK then re-downloads the rest, or the read fails). Time spent
 * waiting on a slow consumer does not count.
 */
function watchBody(
  body: NodeJS.ReadableStream,
  ms: number,
  onTimeout: () => void,
  done: () => void,
): NodeJS.ReadableStream {
  const source = body as NodeJS.ReadableStream & { destroy?: (e?: Error) => void };
  const out = new PassThrough();
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const disarm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const arm = (): void => {
    if (timer !== undefined) {
      timer.refresh();
      return;
    }
    timer = setTimeout(() => {
      finish();
      onTimeout();
      out.destroy(timeoutError(ms, 'while downloading'));
      source.destroy?.();
    }, ms);
  };
  const finish = (): void => {
    if (finished) return;
    finished = true;
    disarm();
    done();
  };
  arm();
  source.on('data', (chunk: Buffer) => {
    if (out.write(chunk)) {
      arm();
    } else {
      // The consumer is behind: stop the clock until it drains.
      disarm();
      source.pause();
    }
  });
  out.on('drain', () => {
    if (finished) return;
    arm();
    source.resume();
  });
  source.on('end', () => {
    finish();
    out.end();
  });
  source.on('error', (e: Error) => {
    finish();
    out.destroy(e);
  });
  out.on('close', () => {
    if (!finished) {
      finish();
      source.destroy?.();
    }
  });
  return out;
}

/**
 * A per-try timeout: a try that gets no answer (status and headers) within
 * `ms`, or whose streamed body stops for `ms` while the reader waits, is
 * aborted and fails with a `RestError` whose code is `ETIMEDOUT`, which the
 * SDK's retry policy retries like any network error; past its tries the
 * storage reports `StorageUnavailableError`. The SDK itself sets no client
 * timeout (its `tryTimeoutInMs` is only the server-side `timeout=`), so a hung
 * connection would otherwise hang a flush or a read forever.
 *
 * Added at position `perRetry`, so each try has its own clock. The caller's
 * abort signal still aborts the request at once.
 */
export function requestTimeoutPolicy(ms: number): RequestPolicy {
  return {
    name: 'yoinkRequestTimeout',
    async sendRequest(request, next) {
      const outer = request.abortSignal;
      const controller = new AbortController();
      const forward = (): void => controller.abort();
      if (outer?.aborted) controller.abort();
      else outer?.addEventListener('abort', forward, { once: true });
      const release = (): void => outer?.removeEventListener('abort', forward);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, ms);
      request.abortSignal = controller.signal;
      let response: ResponseLike;
      try {
        response = await next(request);
      } catch (e) {
        release();
        throw timedOut ? timeoutError(ms, 'from the service') : e;
      } finally {
        clearTimeout(timer);
        // The retry policy sends the same request again: give it back its own signal.
        request.abortSignal = outer;
      }
      const body = response.readableStreamBody;
      if (body === undefined) {
        release();
        return response;
      }
      response.readableStreamBody = watchBody(body, ms, () => controller.abort(), release);
      return response;
    },
  };
}

/** What the retry log says about a failed try: `503 ServerBusy`, `ECONNRESET`. */
function describeTry(response: ResponseLike | undefined, error: unknown): string {
  if (response !== undefined) {
    const code = response.headers.get('x-ms-error-code');
    return code === undefined ? String(response.status) : `${response.status} ${code}`;
  }
  const e = error as { code?: string; statusCode?: number; message?: string } | undefined;
  return [e?.statusCode, e?.code].filter((x) => x !== undefined).join(' ') || 'failed';
}

/**
 * Writes the SDK's retries to `NODE_DEBUG=yoink`: every try after the first,
 * and every try that failed in a way the SDK retries (a 500 or 503 answer,
 * a network error, a timeout). Request URLs are printed through
 * `redactUri`, so a SAS signature (`sig=`) never appears; the account key
 * and bearer tokens travel in headers, which are never printed.
 *
 * Added at position `perRetry`: the SDK's retry policy sends the same
 * request object once per try, which is how the try is counted.
 */
export function retryLogPolicy(safeUri: string): RequestPolicy {
  const tries = new WeakMap<object, number>();
  return {
    name: 'yoinkRetryLog',
    async sendRequest(request, next) {
      if (!debugEnabled()) return next(request);
      const attempt = (tries.get(request) ?? 0) + 1;
      tries.set(request, attempt);
      const target = (): string => `${request.method} ${redactUri(request.url)}`;
      if (attempt > 1) debugLog('%s: retrying %s (try %d)', safeUri, target(), attempt);
      let response: ResponseLike;
      try {
        response = await next(request);
      } catch (e) {
        debugLog(
          '%s: %s failed: %s (try %d)',
          safeUri,
          target(),
          describeTry(undefined, e),
          attempt,
        );
        throw e;
      }
      if (response.status === 500 || response.status === 503) {
        debugLog(
          '%s: %s answered %s (try %d)',
          safeUri,
          target(),
          describeTry(response, undefined),
          attempt,
        );
      }
      return response;
    },
  };
}
