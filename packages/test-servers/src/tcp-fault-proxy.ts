import { type RelayedPair, startTcpRelay, type TcpRelay } from './tcp-relay.js';

/**
 * A TCP proxy in front of a test server that can lose a reply: once armed
 * with a pattern, it forwards the next client request matching it to the
 * server, drops the server's reply, and cuts the client's connection (as a
 * network fault would after the server applied the request). It can also
 * refuse new connections. The pattern is matched against the first 64 bytes
 * of each chunk the client sends (a Redis command's name, an HTTP request
 * line), so requests must not be pipelined.
 *
 * @example
 * ```ts
 * const proxy = await TcpFaultProxy.start(redis.port);
 * proxy.arm(/eval/i); // the next EVAL runs on Redis, its reply is lost
 * ```
 */
export class TcpFaultProxy {
  /** The port clients connect to (127.0.0.1). */
  readonly port: number;
  /** Replies dropped so far. */
  dropped = 0;
  /** Client connections accepted so far. */
  connections = 0;
  /** While `true`, new client connections are closed at once. */
  refuse = false;
  #relay: TcpRelay;
  #armed: RegExp | undefined;
  #skip = 0;

  private constructor(relay: TcpRelay) {
    this.#relay = relay;
    this.port = relay.port;
  }

  /** Starts a proxy on a free port of 127.0.0.1 forwarding to `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<TcpFaultProxy> {
    let proxy: TcpFaultProxy | undefined;
    const relay = await startTcpRelay({
      targetPort,
      accept: () => !proxy?.refuse,
      wire: (pair) => {
        if (proxy) proxy.#wire(pair);
      },
    });
    proxy = new TcpFaultProxy(relay);
    return proxy;
  }

  /**
   * The next client request whose bytes match `pattern` (after `skip` more
   * matching ones) gets its reply dropped.
   */
  arm(pattern: RegExp, skip = 0): void {
    this.#armed = pattern;
    this.#skip = skip;
  }

  /** Cuts every open connection (new ones are still accepted unless `refuse`). */
  cutAll(): void {
    this.#relay.cutAll();
  }

  /** Cuts every connection and stops listening. */
  stop(): Promise<void> {
    return this.#relay.close();
  }

  #wire(pair: RelayedPair): void {
    const { client, upstream } = pair;
    this.connections += 1;
    let dropNextReply = false;
    client.on('data', (d: Buffer) => {
      const armed = this.#armed;
      if (armed?.test(d.subarray(0, 64).toString('latin1'))) {
        if (this.#skip > 0) {
          this.#skip -= 1;
        } else {
          this.#armed = undefined;
          dropNextReply = true;
        }
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (dropNextReply) {
        // The request ran on the server; its reply never reaches the client.
        this.dropped += 1;
        pair.close();
        return;
      }
      client.write(d);
    });
  }
}
