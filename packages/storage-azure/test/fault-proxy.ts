import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type FaultAction =
  /** Forward it and relay the reply. */
  | 'pass'
  /** Answer with this status and Azure error code, without forwarding. */
  | { status: number; code: string }
  /** Forward it, let Azurite apply it, then answer 500 InternalError (a lost reply: the SDK retries). */
  | 'lose-reply'
  /** Forward it, let Azurite apply it, then close the connection without a reply. */
  | 'drop-reply';

/** One request as the proxy saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** `appendblock`, `create`, `metadata` (SetBlobMetadata: a writer's claim), `properties`, `download` or `other`. */
  kind: 'appendblock' | 'create' | 'metadata' | 'properties' | 'download' | 'other';
  /** Request body bytes. */
  bytesUp: number;
  /** Response body bytes relayed to the client. */
  bytesDown: number;
}

/** An HTTP proxy in front of Azurite that injects faults per request and records every request. */
export interface FaultProxy {
  /** The blob endpoint through the proxy: `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  /** Decides each request's fate; default: pass everything. */
  decide: (req: IncomingMessage, kind: SeenRequest['kind']) => FaultAction;
  /** Requests seen, in order. */
  seen: SeenRequest[];
  stop(): Promise<void>;
}

function kindOf(req: IncomingMessage): SeenRequest['kind'] {
  const url = req.url ?? '';
  if (req.method === 'PUT' && /[?&]comp=appendblock/.test(url)) return 'appendblock';
  if (req.method === 'PUT' && req.headers['x-ms-blob-type'] === 'AppendBlob') return 'create';
  if (req.method === 'PUT' && /[?&]comp=metadata/.test(url)) return 'metadata';
  if (req.method === 'HEAD') return 'properties';
  if (req.method === 'GET' && !/[?&]comp=/.test(url)) return 'download';
  return 'other';
}

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`;
}

/** Starts a proxy to Azurite's blob `endpoint` (`http://host:port/account`) on a free port. */
export async function startFaultProxy(endpoint: string): Promise<FaultProxy> {
  const upstream = new URL(endpoint);
  const proxy: FaultProxy = {
    endpoint: '',
    decide: () => 'pass',
    seen: [],
    stop: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const kind = kindOf(req);
    const entry: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      kind,
      bytesUp: 0,
      bytesDown: 0,
    };
    proxy.seen.push(entry);
    req.on('data', (d: Buffer) => {
      entry.bytesUp += d.length;
    });
    const action = proxy.decide(req, kind);
    if (typeof action === 'object') {
      req.resume();
      req.on('end', () => {
        res.writeHead(action.status, {
          'content-type': 'application/xml',
          'x-ms-error-code': action.code,
        });
        res.end(errorXml(action.code));
      });
      return;
    }
    // Headers (the signature included) go through unchanged: Azure signs the path, not the host.
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
            if (action === 'drop-reply') {
              res.socket?.destroy();
              return;
            }
            res.writeHead(500, {
              'content-type': 'application/xml',
              'x-ms-error-code': 'InternalError',
            });
            res.end(errorXml('InternalError'));
          });
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
  proxy.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** Fails the next `count` requests of `kind` with `action`, then passes everything. */
export function failNext(
  proxy: FaultProxy,
  kind: SeenRequest['kind'],
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
