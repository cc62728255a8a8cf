import type { IncomingMessage } from 'node:http';
import {
  type HttpFaultProxy,
  type ProxiedRequest,
  startHttpFaultProxy,
} from '@yoink/test-servers/proxies';
import { afterAll, beforeAll } from 'vitest';
import { azurite, createContainer } from './helpers.js';

export { failNext } from '@yoink/test-servers/proxies';

/** The Azure operations the tests tell apart. */
export type RequestKind =
  | 'appendblock'
  | 'create'
  | 'metadata'
  | 'properties'
  | 'download'
  | 'other';

/** One request as the proxy saw it. */
export type SeenRequest = ProxiedRequest<RequestKind>;

/** An HTTP proxy in front of Azurite that injects faults per request and records every request. */
export type FaultProxy = HttpFaultProxy<RequestKind>;

/** `appendblock`, `create`, `metadata` (SetBlobMetadata: a writer's claim), `properties`, `download` or `other`. */
function kindOf(req: IncomingMessage): RequestKind {
  const url = req.url ?? '';
  if (req.method === 'PUT' && /[?&]comp=appendblock/.test(url)) return 'appendblock';
  if (req.method === 'PUT' && req.headers['x-ms-blob-type'] === 'AppendBlob') return 'create';
  if (req.method === 'PUT' && /[?&]comp=metadata/.test(url)) return 'metadata';
  if (req.method === 'HEAD') return 'properties';
  if (req.method === 'GET' && !/[?&]comp=/.test(url)) return 'download';
  return 'other';
}

/**
 * Starts a proxy to Azurite's blob `endpoint` (`http://host:port/account`) on a
 * free port; its `endpoint` keeps the account path. Injected errors carry
 * Azure's `x-ms-error-code` header and XML body.
 */
export function startFaultProxy(endpoint: string): Promise<FaultProxy> {
  return startHttpFaultProxy({
    target: endpoint,
    classify: kindOf,
    errorReply: (code) => ({
      headers: { 'content-type': 'application/xml', 'x-ms-error-code': code },
      body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`,
    }),
  });
}

/**
 * For one test file: before its tests, creates `container` on Azurite and
 * starts a fault proxy in front of Azurite; after them, stops the proxy.
 * Read `.proxy` inside the tests.
 */
export function proxiedContainer(container: string): { readonly proxy: FaultProxy } {
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    await createContainer(container);
    proxy = await startFaultProxy(azurite.endpoint);
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  return {
    get proxy() {
      if (proxy === undefined)
        throw new Error('the fault proxy starts in beforeAll: use it inside tests');
      return proxy;
    },
  };
}
