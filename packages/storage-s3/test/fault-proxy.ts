import { type HttpFaultProxy, startHttpFaultProxy } from '@yoink/test-servers/proxies';

/**
 * An HTTP proxy in front of a real S3 server that injects faults per request
 * (S3's XML errors); `seen` holds each request as `METHOD path`.
 */
export type FaultProxy = HttpFaultProxy<string, string>;

/** Starts a fault-injecting proxy to `target` (http://host:port) on a free port. */
export function startFaultProxy(target: string): Promise<FaultProxy> {
  return startHttpFaultProxy({ target, record: (r) => `${r.method} ${r.url}` });
}
