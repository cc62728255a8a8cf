import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Options of {@link FreezingProxy.start}. */
export interface FreezeOptions {
  /**
   * Bytes of the server's replies still relayed after the trigger, before
   * the freeze: 0 (default) holds the reply to the triggering request
   * entirely; a few KiB let its status, headers and the start of its body
   * through, so the client is left waiting in the middle of a download.
   */
  replyBytes?: number;
}

/**
 * A TCP proxy in front of Azurite that stops forwarding at a chosen moment,
 * as a network partition does (after apps/cli/test/freezing-proxy.ts, with
 * `replyBytes` added):
 *
 * - it forwards bytes both ways until a client sends bytes matching
 *   `trigger` (say, a line of an append's body); that request still reaches
 *   Azurite, which applies it, but from then on (after `replyBytes` more
 *   bytes of replies) bytes are held in both directions, on every
 *   connection, new ones included: the client waits for an answer that does
 *   not come;
 * - `frozen` resolves at that moment;
 * - `thaw()` drops what was held for connections the client gave up, and
 *   forwards as before (the trigger fires once).
 */
export class FreezingProxy {
  /** The port clients connect to (127.0.0.1). */
  readonly port: number;
  /** Resolves once the proxy stopped forwarding. */
  readonly frozen: Promise<void>;
  #server: Server;
  #sockets = new Set<Socket>();
  #state: 'watching' | 'draining' | 'frozen' | 'thawed' = 'watching';
  #replyBudget = 0;
  #held: { to: Socket; data: Buffer }[] = [];
  #onFrozen: () => void = () => {};

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
    this.frozen = new Promise((resolve) => {
      this.#onFrozen = resolve;
    });
  }

  /** Starts a proxy on a free port of 127.0.0.1 forwarding to `127.0.0.1:targetPort`. */
  static async start(
    targetPort: number,
    trigger: RegExp,
    options: FreezeOptions = {},
  ): Promise<FreezingProxy> {
    let proxy: FreezingProxy | undefined;
    const server = createServer((client) =>
      proxy?.accept(client, targetPort, trigger, options.replyBytes ?? 0),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new FreezingProxy(server, address.port);
    return proxy;
  }

  /** Delivers what was held to connections still open, and forwards everything from now on. */
  thaw(): void {
    this.#state = 'thawed';
    const held = this.#held;
    this.#held = [];
    for (const { to, data } of held) if (!to.destroyed) to.write(data);
  }

  /** Closes every connection and refuses new ones (the server's host is gone). */
  async cut(): Promise<void> {
    this.#held = [];
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }

  /** Closes every connection and stops listening (safe after {@link cut}). */
  async stop(): Promise<void> {
    this.#held = [];
    const closed = new Promise<void>((resolve) =>
      this.#server.listening ? this.#server.close(() => resolve()) : resolve(),
    );
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }

  #freeze(): void {
    this.#state = 'frozen';
    this.#onFrozen();
  }

  #forward(to: Socket, data: Buffer, reply: boolean): void {
    if (this.#state === 'draining' && reply) {
      const pass = Math.min(this.#replyBudget, data.length);
      this.#replyBudget -= pass;
      if (pass > 0) to.write(data.subarray(0, pass));
      if (this.#replyBudget > 0) return;
      this.#freeze();
      if (pass < data.length) this.#held.push({ to, data: data.subarray(pass) });
      return;
    }
    if (this.#state === 'frozen') this.#held.push({ to, data });
    else to.write(data);
  }

  private accept(client: Socket, targetPort: number, trigger: RegExp, replyBytes: number): void {
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
      this.#forward(upstream, d, false);
      if (this.#state !== 'watching') return;
      const text = tail + d.toString('latin1');
      tail = text.slice(-256);
      if (trigger.test(text)) {
        if (replyBytes > 0) {
          this.#state = 'draining';
          this.#replyBudget = replyBytes;
        } else {
          this.#freeze();
        }
      }
    });
    upstream.on('data', (d: Buffer) => this.#forward(client, d, true));
  }
}
