import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Redis that can lose a reply: once armed with a
 * pattern, it forwards the next client command matching it to Redis, drops
 * Redis's reply, and cuts the client connection (as a network fault would
 * after the server applied the command). It can also refuse new connections.
 */
export class FaultProxy {
  readonly port: number;
  /** Replies dropped so far. */
  dropped = 0;
  /** Client connections accepted so far. */
  connections = 0;
  /** While `true`, new client connections are closed at once. */
  refuse = false;
  #server: Server;
  #armed: RegExp | undefined;
  #skip = 0;
  #sockets = new Set<Socket>();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Starts a proxy on a free port of 127.0.0.1 forwarding to `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new FaultProxy(server, address.port);
    return proxy;
  }

  /**
   * The next client command whose bytes match `pattern` (after `skip` more
   * matching ones) gets its reply dropped. Commands must not be pipelined.
   */
  arm(pattern: RegExp, skip = 0): void {
    this.#armed = pattern;
    this.#skip = skip;
  }

  /** Cuts every open connection. */
  cutAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.refuse) {
      client.destroy();
      return;
    }
    this.connections += 1;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    let dropNextReply = false;
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
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
        // The command ran on Redis; its reply never reaches the client.
        this.dropped += 1;
        cut();
        return;
      }
      client.write(d);
    });
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', cut);
    upstream.on('close', cut);
  }
}
