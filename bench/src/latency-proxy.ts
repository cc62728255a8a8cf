import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running {@link startLatencyProxy}. */
export interface LatencyProxy {
  /** `http://127.0.0.1:<port>`: use it as the S3 endpoint. */
  readonly endpoint: string;
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
 * Replies pass through at once.
 */
export async function startLatencyProxy(
  targetPort: number,
  delayMs: number,
): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const accept = (client: Socket): void => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // 'idle': the next client bytes start a request; 'held': a request waits out its delay;
    // 'sent': forwarded, waiting for the reply.
    let state: 'idle' | 'held' | 'sent' = 'idle';
    let queue: Buffer[] = [];
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    // A side that finishes sends what is still buffered, then its end, to the other.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => sockets.delete(upstream));
    const send = (from: Socket, to: Socket, d: Buffer): void => {
      // Backpressure: a slow reader slows the sender instead of filling memory.
      if (!to.write(d)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    };
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
        for (const chunk of held) upstream.write(chunk);
      }, delayMs);
    });
    upstream.on('data', (d: Buffer) => {
      if (state === 'sent') state = 'idle';
      send(upstream, client, d);
    });
  };
  const server: Server = createServer(accept);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('latency proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get requests() {
      return requests;
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      sockets.clear();
      await closed;
    },
  };
}
