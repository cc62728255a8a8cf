import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a test server that freezes at a chosen moment, as a
 * network partition or a frozen host does: the client's connections stay open
 * but nothing more gets through. (Adapted from apps/cli/test/freezing-proxy.ts;
 * here the server closing its side is held too, so a server that closes after
 * replying does not end the freeze.)
 *
 * - it forwards bytes both ways until a client sends bytes matching
 *   `trigger` (e.g. the first `XADD` of a flush, or the `PUT` of the data
 *   object); that request still reaches the server, but from then on bytes
 *   are held in both directions, so the client waits for its reply;
 * - `frozen` resolves at that moment;
 * - `thaw()` delivers what was held (and any close by the server) and
 *   forwards as before (the trigger fires once);
 * - `cut()` does what the death of the server's host does to its clients:
 *   open connections are closed and new ones are refused.
 */
export class FreezingProxy {
  /** The port clients connect to (127.0.0.1). */
  readonly port: number;
  /** Resolves once a client has sent bytes matching the trigger. */
  readonly frozen: Promise<void>;
  #server: Server;
  #sockets = new Set<Socket>();
  #state: 'watching' | 'frozen' | 'thawed' = 'watching';
  #held: { to: Socket; data: Buffer }[] = [];
  /** Connections the server closed while frozen: closed on thaw. */
  #heldCloses: (() => void)[] = [];
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

  /** Delivers the bytes held since the freeze and forwards everything from now on. */
  thaw(): void {
    this.#state = 'thawed';
    const held = this.#held;
    this.#held = [];
    for (const { to, data } of held) if (!to.destroyed) to.write(data);
    for (const close of this.#heldCloses.splice(0)) close();
  }

  /** Closes every connection and refuses new ones (the server's host is gone). */
  async cut(): Promise<void> {
    this.#held = [];
    this.#heldCloses = [];
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }

  #forward(to: Socket, data: Buffer): void {
    if (this.#state === 'frozen') this.#held.push({ to, data });
    else to.write(data);
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
    // A frozen host never closes: hold the server's close until the thaw.
    const dropUnlessFrozen = (): void => {
      if (this.#state === 'frozen') this.#heldCloses.push(drop);
      else drop();
    };
    client.on('error', drop);
    upstream.on('error', dropUnlessFrozen);
    client.on('close', drop);
    upstream.on('close', dropUnlessFrozen);
    // The last bytes seen, so a trigger split across two reads still matches.
    let tail = '';
    client.on('data', (d: Buffer) => {
      this.#forward(upstream, d);
      if (this.#state !== 'watching') return;
      const text = tail + d.toString('latin1');
      tail = text.slice(-256);
      if (trigger.test(text)) {
        this.#state = 'frozen';
        this.#onFrozen();
      }
    });
    upstream.on('data', (d: Buffer) => this.#forward(client, d));
  }
}
