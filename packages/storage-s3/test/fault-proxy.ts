import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with one request. */
export type FaultAction =
  /** Forward it and relay the reply. */
  | 'pass'
  /** Answer with this status and S3 error code, without forwarding. */
  | { status: number; code: string }
  /** Forward it, let the server apply it, then answer 500 (a lost reply). */
  | 'lose-reply'
  /** Neither forward nor answer it: the request hangs until the client gives up on it. */
  | 'hang';

/** An HTTP proxy in front of a real S3 server that injects faults per request. */
export interface FaultProxy {
  endpoint: string;
  /** Decides each request's fate; default: pass everything. */
  decide: (req: IncomingMessage) => FaultAction;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
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
  stop(): Promise<void>;
}

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`;
}

/** Starts a fault-injecting proxy to `target` (http://host:port) on a free port. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let waiters: Array<() => void> = [];
  const hanging = new Set<IncomingMessage>();
  let hangWaiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  const onHangingChange = (): void => {
    const ready = hangWaiters.filter((w) => w.done());
    hangWaiters = hangWaiters.filter((w) => !w.done());
    for (const w of ready) w.resolve();
  };
  const waitHanging = (done: () => boolean): Promise<void> =>
    done()
      ? Promise.resolve()
      : new Promise((resolve) => {
          hangWaiters.push({ done, resolve });
        });
  const proxy: FaultProxy = {
    endpoint: '',
    decide: () => 'pass',
    seen: [],
    get openConnections() {
      return sockets.size;
    },
    get hanging() {
      return hanging.size;
    },
    hangingReaches: (n) => waitHanging(() => hanging.size >= n),
    noneHanging: () => waitHanging(() => hanging.size === 0),
    allClosed: () =>
      sockets.size === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve)),
    stop: async () => {},
  };
  const server: Server = createServer((req, res) => {
    proxy.seen.push(`${req.method} ${req.url}`);
    const action = proxy.decide(req);
    if (action === 'hang') {
      hanging.add(req);
      // The client closing the connection is the only way out of a hung request.
      req.socket.once('close', () => {
        hanging.delete(req);
        onHangingChange();
      });
      req.resume();
      onHangingChange();
      return;
    }
    if (typeof action === 'object') {
      req.resume();
      req.on('end', () => {
        res.writeHead(action.status, { 'content-type': 'application/xml' });
        res.end(errorXml(action.code));
      });
      return;
    }
    // Headers (Host included) go through unchanged, so the signature still matches.
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        if (action === 'lose-reply') {
          upRes.resume();
          upRes.on('end', () => {
            res.writeHead(500, { 'content-type': 'application/xml' });
            res.end(errorXml('InternalError'));
          });
          return;
        }
        // Hop-by-hop headers stay on their hop: the proxy keeps client
        // connections alive as S3 does, whatever the server behind it does.
        const { connection: _c, 'keep-alive': _k, ...headers } = upRes.headers;
        res.writeHead(upRes.statusCode ?? 502, headers);
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
      if (sockets.size === 0) {
        const ready = waiters;
        waiters = [];
        for (const w of ready) w();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
