import type { Socket } from 'node:net';
import { send, startTcpRelay } from './tcp-relay.js';

/** A running {@link startLatencyProxy}. */
export interface LatencyProxy {
  /** `http://127.0.0.1:<port>`: use it as the S3 endpoint. */
  readonly endpoint: string;
  /** The port clients connect to. */
  readonly port: number;
  /** Requests delayed so far. */
  readonly requests: number;
  /** Closes every connection and stops listening. */
  stop(): Promise<void>;
}

/**
 * A TCP proxy to `127.0.0.1:targetPort` that holds each HTTP request for
 * `delayMs` before forwarding it, like the time to first byte of a real S3
 * (10–30 ms) that a local test server does not have.
 *
 * It does not parse HTTP: on each connection, the first bytes the client
 * sends after the server has answered (or on a new connection) start a
 * request, and wait `delayMs`; bytes that follow before the server answers
 * (the rest of the request, its body) queue behind them in order. Node's
 * HTTP client sends one request at a time per connection, so each request is
 * delayed once (a body sent after a `100 Continue` is delayed a second time).
 * Replies pass through at once, with backpressure both ways.
 *
 * @example
 * ```ts
 * const proxy = await startLatencyProxy(s3rver.port, 20);
 * const client = new S3Client({ ...s3rver.clientConfig, endpoint: proxy.endpoint });
 * ```
 */
export async function startLatencyProxy(
  targetPort: number,
  delayMs: number,
): Promise<LatencyProxy> {
  let requests = 0;
  const relay = await startTcpRelay({
    targetPort,
    halfClose: true,
    noDelay: true,
    wire: ({ client, upstream }) => {
      // 'idle': the next client bytes start a request; 'held': a request waits out its delay;
      // 'sent': forwarded, waiting for the reply.
      let state: 'idle' | 'held' | 'sent' = 'idle';
      let queue: Buffer[] = [];
      client.on('data', (d: Buffer) => {
        if (state === 'sent') {
          send(client, upstream, d);
          return;
        }
        queue.push(d);
        if (state === 'held') return;
        state = 'held';
        requests += 1;
        setTimeout(() => {
          state = 'sent';
          const held = queue;
          queue = [];
          for (const chunk of held) writeTo(upstream, chunk);
        }, delayMs);
      });
      upstream.on('data', (d: Buffer) => {
        if (state === 'sent') state = 'idle';
        send(upstream, client, d);
      });
    },
  });
  return {
    endpoint: `http://127.0.0.1:${relay.port}`,
    port: relay.port,
    get requests() {
      return requests;
    },
    stop: () => relay.close(),
  };
}

function writeTo(socket: Socket, data: Buffer): void {
  if (!socket.destroyed) socket.write(data);
}
