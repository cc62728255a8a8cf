import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** One client connection of a {@link TcpRelay} and its connection to the server. */
export interface RelayedPair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Destroys both sockets. */
  close(): void;
}

/** Options of {@link startTcpRelay}. */
export interface TcpRelayOptions {
  /** The server: `127.0.0.1:<targetPort>`. */
  targetPort: number;
  /** Called for each new client: `false` closes it at once (default: accept every client). */
  accept?: () => boolean;
  /**
   * Forwards the bytes of one pair: the proxy's own logic, called once per
   * client with both sockets open. Use {@link send} to write with backpressure.
   */
  wire: (pair: RelayedPair) => void;
  /**
   * What the end of the server's side does (its `close` or `error`). Default:
   * close both sides at once. A proxy that plays a frozen host holds it.
   */
  onUpstreamGone?: (pair: RelayedPair) => void;
  /**
   * `true`: a side that ends sends what is still buffered, then its end, to
   * the other (an HTTP server closing after a reply is seen as such); the
   * client closing closes both. Default `false`: either side closing or
   * failing closes both at once, as a network fault does.
   */
  halfClose?: boolean;
  /** Turn Nagle's algorithm off on both sockets (latency measurements). Default `false`. */
  noDelay?: boolean;
}

/** A TCP proxy core listening on 127.0.0.1: accepts clients and pairs each with a connection to the server. */
export interface TcpRelay {
  /** The port clients connect to. */
  readonly port: number;
  /** Destroys every open connection; new ones are still accepted. */
  cutAll(): void;
  /** Destroys every connection and stops listening (new connections are refused). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Writes `data` to `to`; when `to`'s buffer is full, pauses `from` until it
 * drains, so a slow reader slows the sender instead of filling memory.
 */
export function send(from: Socket, to: Socket, data: Buffer): void {
  if (to.destroyed) return;
  if (!to.write(data)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

/**
 * Starts the core every TCP proxy here is built on (freezing, fault, latency):
 * it listens on a free port of 127.0.0.1, connects each accepted client to
 * the server, keeps track of every socket, and hands each pair to
 * `options.wire`, which decides what to forward.
 *
 * @example
 * ```ts
 * const relay = await startTcpRelay({
 *   targetPort: 6379,
 *   wire: ({ client, upstream }) => {
 *     client.on('data', (d: Buffer) => send(client, upstream, d));
 *     upstream.on('data', (d: Buffer) => send(upstream, client, d));
 *   },
 * });
 * ```
 */
export async function startTcpRelay(options: TcpRelayOptions): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  const accept = (client: Socket): void => {
    if (options.accept && !options.accept()) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    if (options.noDelay) {
      client.setNoDelay(true);
      upstream.setNoDelay(true);
    }
    const pair: RelayedPair = {
      client,
      upstream,
      close() {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      },
    };
    const upstreamGone = (): void =>
      options.onUpstreamGone ? options.onUpstreamGone(pair) : pair.close();
    if (options.halfClose) {
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.on('close', () => pair.close());
      upstream.on('close', () => sockets.delete(upstream));
      client.on('error', () => pair.close());
      upstream.on('error', () => pair.close());
    } else {
      client.on('close', () => pair.close());
      client.on('error', () => pair.close());
      upstream.on('close', upstreamGone);
      upstream.on('error', upstreamGone);
    }
    options.wire(pair);
  };
  const server: Server = createServer(accept);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const cutAll = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  let closed: Promise<void> | undefined;
  return {
    port: address.port,
    cutAll,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        cutAll();
      });
      return closed;
    },
  };
}
