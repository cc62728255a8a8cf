import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a test server that freezes at a chosen moment, so a
 * test can kill the server while the CLI is known to be mid-copy:
 *
 * - it forwards bytes both ways until the client sends bytes matching
 *   `trigger` (e.g. the first `XADD` of a flush, or the `PUT` of the data
 *   object); that request still reaches the server, but from then on nothing
 *   more is forwarded in either direction, so the client waits for a reply;
 * - `frozen` resolves at that moment;
 * - `cut()` then does what the death of the server's host does to its
 *   clients: open connections are closed and new ones are refused.
 */
export class FreezingProxy {
  /** The port clients connect to (127.0.0.1). */
  readonly port: number;
  /** Resolves once the client has sent bytes matching the trigger. */
  readonly frozen: Promise<void>;
  #server: Server;
  #sockets = new Set<Socket>();
  #isFrozen = false;
  #onFrozen: () => void = () => {};

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
    this.frozen = new Promise((resolve) => {
      this.#onFrozen = resolve;
    });
  }

  /** Starts a proxy on a free port of 127.0.0.1 forwarding to `127.0.0.1:targetPort`. */
  static async start(targetPort: number, trigger: RegExp): Promise<FreezingProxy> {
    let proxy: FreezingProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort, trigger));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new FreezingProxy(server, address.port);
    return proxy;
  }

  /** Closes every connection and refuses new ones (the server's host is gone). */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }

  private accept(client: Socket, targetPort: number, trigger: RegExp): void {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    // The last bytes seen, so a trigger split across two reads still matches.
    let tail = '';
    client.on('data', (d: Buffer) => {
      if (this.#isFrozen) return;
      const text = tail + d.toString('latin1');
      upstream.write(d);
      if (trigger.test(text)) {
        this.#isFrozen = true;
        this.#onFrozen();
      }
      tail = text.slice(-256);
    });
    upstream.on('data', (d: Buffer) => {
      if (!this.#isFrozen) client.write(d);
    });
  }
}
