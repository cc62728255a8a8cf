import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type FaultAction =
  /** Forward it and relay the reply. */
  | 'pass'
  /** Answer with this status and S3 error code, without forwarding. */
  | { status: number; code: string }
  /** Forward it, let the server apply it, then answer 500 (a lost reply). */
  | 'lose-reply';

/** An HTTP proxy in front of a real S3 server that injects faults per request. */
export interface FaultProxy {
  endpoint: string;
  /** Decides each request's fate; default: pass everything. */
  decide: (req: IncomingMessage) => FaultAction;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
  stop(): Promise<void>;
}

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`;
}

/** Starts a fault-injecting proxy to `target` (http://host:port) on a free port. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = {
    endpoint: '',
    decide: () => 'pass',
    seen: [],
    stop: async () => {},
  };
  const server: Server = createServer((req, res) => {
    proxy.seen.push(`${req.method} ${req.url}`);
    const action = proxy.decide(req);
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
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
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
