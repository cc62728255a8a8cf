import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What an {@link HttpFaultProxy} does with one request. */
export type FaultAction =
  /** Forward it and relay the reply. */
  | 'pass'
  /** Answer with this status and service error code, without forwarding. */
  | { status: number; code: string }
  /** Forward it, let the server apply it, then answer 500 `InternalError` (a lost reply: SDKs retry). */
  | 'lose-reply'
  /** Forward it, let the server apply it, then close the connection without a reply. */
  | 'drop-reply'
  /** Neither forward nor answer it: the request hangs until the client gives up on it. */
  | 'hang';

/** One request as the proxy saw it; the byte counts grow while its bodies stream. */
export interface ProxiedRequest<K extends string = string> {
  method: string;
  /** Path and query. */
  url: string;
  /** What `classify` called it (`'other'` without one). */
  kind: K;
  /** Request body bytes. */
  bytesUp: number;
  /** Response body bytes relayed to the client. */
  bytesDown: number;
}

/** The body and headers of an injected error reply. */
export interface ErrorReply {
  headers: OutgoingHttpHeaders;
  body: string;
}

/** Options of {@link startHttpFaultProxy}: what differs between services. */
export interface HttpFaultProxyOptions<K extends string, S> {
  /** The server: `http://host:port`, with a path the endpoint keeps (Azure's account). */
  target: string;
  /** Names each request (an operation), for `decide`, `seen` and {@link failNext}. */
  classify?: (req: IncomingMessage) => K;
  /** What `seen` keeps of a request. Default: the {@link ProxiedRequest} itself. */
  record?: (request: ProxiedRequest<K>) => S;
  /** The reply for an injected error `code`. Default: S3's XML error body. */
  errorReply?: (code: string) => ErrorReply;
}

/** An HTTP proxy in front of a real server that injects faults per request and records every request. */
export interface HttpFaultProxy<K extends string = string, S = ProxiedRequest<K>> {
  /** The endpoint through the proxy: `http://127.0.0.1:<port>` plus the target's path. */
  readonly endpoint: string;
  /** Decides each request's fate; default: pass everything. */
  decide: (req: IncomingMessage, kind: K) => FaultAction;
  /** Requests seen, in order (clear it with `seen.length = 0`). */
  seen: S[];
  /** Client connections open right now. */
  readonly openConnections: number;
  /** Requests held by `'hang'` whose client has not closed them yet. */
  readonly hanging: number;
  /** Resolves once `n` requests hang at the same time. */
  hangingReaches(n: number): Promise<void>;
  /** Resolves once no request hangs (their clients closed them: an abort, a timeout). */
  noneHanging(): Promise<void>;
  /** Resolves once every client connection has closed (idle connections are never timed out). */
  allClosed(): Promise<void>;
  /** Closes every connection and stops listening. */
  stop(): Promise<void>;
}

/** S3's error body. */
function s3ErrorReply(code: string): ErrorReply {
  return {
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`,
  };
}

/** Resolves waiters whose condition holds, each once. */
class Waiters {
  #waiting: { done: () => boolean; resolve: () => void }[] = [];

  wait(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ done, resolve }));
  }

  check(): void {
    const ready = this.#waiting.filter((w) => w.done());
    this.#waiting = this.#waiting.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

/**
 * Starts an HTTP proxy to `options.target` on a free port of 127.0.0.1 that
 * records every request and does to each what `decide` says (pass, answer
 * an error, lose or drop the reply, hang). Request headers go through
 * unchanged, so signatures still match (S3 and Azure sign the path, not the
 * proxy's host). Hop-by-hop reply headers stay on their hop: client
 * connections are kept alive, and never timed out, whatever the server does.
 *
 * @example
 * ```ts
 * const proxy = await startHttpFaultProxy({ target: moto.endpoint });
 * failNext(proxy, 'other', { status: 503, code: 'SlowDown' });
 * ```
 */
export async function startHttpFaultProxy<K extends string = string, S = ProxiedRequest<K>>(
  options: HttpFaultProxyOptions<K, S>,
): Promise<HttpFaultProxy<K, S>> {
  const upstream = new URL(options.target);
  const classify = options.classify ?? (() => 'other' as K);
  const record = options.record ?? ((r: ProxiedRequest<K>) => r as unknown as S);
  const errorReply = options.errorReply ?? s3ErrorReply;
  const sockets = new Set<Socket>();
  const hanging = new Set<IncomingMessage>();
  const waiters = new Waiters();
  const server: Server = createServer((req, res) => {
    const kind = classify(req);
    const entry: ProxiedRequest<K> = {
      method: req.method ?? '',
      url: req.url ?? '',
      kind,
      bytesUp: 0,
      bytesDown: 0,
    };
    proxy.seen.push(record(entry));
    req.on('data', (d: Buffer) => {
      entry.bytesUp += d.length;
    });
    const action = proxy.decide(req, kind);
    const answerError = (status: number, code: string): void => {
      const reply = errorReply(code);
      res.writeHead(status, reply.headers);
      res.end(reply.body);
    };
    if (action === 'hang') {
      hanging.add(req);
      // The client closing the connection is the only way out of a hung request.
      req.socket.once('close', () => {
        hanging.delete(req);
        waiters.check();
      });
      req.resume();
      waiters.check();
      return;
    }
    if (typeof action === 'object') {
      req.resume();
      req.on('end', () => answerError(action.status, action.code));
      return;
    }
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        if (action === 'lose-reply' || action === 'drop-reply') {
          upRes.resume();
          upRes.on('end', () => {
            if (action === 'drop-reply') res.socket?.destroy();
            else answerError(500, 'InternalError');
          });
          return;
        }
        const { connection: _c, 'keep-alive': _k, ...headers } = upRes.headers;
        res.writeHead(upRes.statusCode ?? 502, headers);
        upRes.on('data', (d: Buffer) => {
          entry.bytesDown += d.length;
        });
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  // Keep idle client connections open, so a client that never releases its
  // sockets shows up in openConnections instead of being timed out by the proxy.
  server.keepAliveTimeout = 0;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      waiters.check();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const path = upstream.pathname === '/' ? '' : upstream.pathname;
  const proxy: HttpFaultProxy<K, S> = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    decide: () => 'pass',
    seen: [],
    get openConnections() {
      return sockets.size;
    },
    get hanging() {
      return hanging.size;
    },
    hangingReaches: (n) => waiters.wait(() => hanging.size >= n),
    noneHanging: () => waiters.wait(() => hanging.size === 0),
    allClosed: () => waiters.wait(() => sockets.size === 0),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

/**
 * Fails the next `count` requests of `kind` (whose URL passes `where`) with
 * `action`, then passes everything.
 *
 * @example
 * ```ts
 * failNext(proxy, 'appendblock', { status: 503, code: 'ServerBusy' }, 2);
 * ```
 */
export function failNext<K extends string>(
  proxy: HttpFaultProxy<K, unknown>,
  kind: K,
  action: Exclude<FaultAction, 'pass'>,
  count = 1,
  where: (url: string) => boolean = () => true,
): void {
  let left = count;
  proxy.decide = (req, k) => {
    if (k === kind && left > 0 && where(req.url ?? '')) {
      left -= 1;
      return action;
    }
    return 'pass';
  };
}
