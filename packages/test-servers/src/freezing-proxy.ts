import type { Socket } from 'node:net';
import { type RelayedPair, startTcpRelay, type TcpRelay } from './tcp-relay.js';

/** Options of {@link FreezingProxy.start}. */
export interface FreezeOptions {
  /**
   * Bytes of the server's replies still relayed after the trigger, before
   * the freeze: 0 (default) holds the reply to the triggering request
   * entirely; a few KiB let its status, headers and the start of its body
   * through, so the client is left waiting in the middle of a download.
   */
  replyBytes?: number;
  /**
   * `true`: while frozen, the server closing a connection is held too, and
   * reaches the client only at {@link FreezingProxy.thaw}, as with a frozen
   * host (a server that closes after replying does not end the freeze).
   * Default `false`: the server's close reaches the client at once (a killed
   * server is seen as gone).
   */
  holdServerCloses?: boolean;
}

/**
 * A TCP proxy in front of a test server that freezes at a chosen moment, as a
 * network partition or a frozen host does, so a test can act (kill the
 * server, send a signal, wait for a timeout) while the client is known to be
 * waiting for the server:
 *
 * - it forwards bytes both ways until a client sends bytes matching
 *   `trigger` (e.g. the first `XADD` of a flush, or the `PUT` of the data
 *   object); that request still reaches the server, which applies it, but
 *   from then on (after `replyBytes` more bytes of replies) bytes are held
 *   in both directions, on every connection, new ones included;
 * - `frozen` resolves at that moment;
 * - `thaw()` delivers what was held to connections still open (and any
 *   held close) and forwards as before (the trigger fires once);
 * - `cut()` does what the death of the server's host does to its clients:
 *   open connections are closed and new ones are refused.
 *
 * @example
 * ```ts
 * const proxy = await FreezingProxy.start(redis.port, /\r\nxadd\r\n/i);
 * // … point the client at proxy.port, start a flush …
 * await proxy.frozen;
 * proxy.thaw();
 * await proxy.cut();
 * ```
 */
export class FreezingProxy {
  /** The port clients connect to (127.0.0.1). */
  readonly port: number;
  /** Resolves once the proxy stopped forwarding. */
  readonly frozen: Promise<void>;
  #relay: TcpRelay;
  #state: 'watching' | 'draining' | 'frozen' | 'thawed' = 'watching';
  #replyBudget = 0;
  #held: { to: Socket; data: Buffer }[] = [];
  /** Connections the server closed while frozen: closed on thaw. */
  #heldCloses: (() => void)[] = [];
  #onFrozen: () => void = () => {};

  private constructor(relay: TcpRelay) {
    this.#relay = relay;
    this.port = relay.port;
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
    const relay = await startTcpRelay({
      targetPort,
      wire: (pair) => {
        if (proxy) proxy.#wire(pair, trigger, options.replyBytes ?? 0);
      },
      onUpstreamGone: (pair) => {
        if (options.holdServerCloses && proxy && proxy.#state === 'frozen') {
          proxy.#heldCloses.push(() => pair.close());
        } else {
          pair.close();
        }
      },
    });
    proxy = new FreezingProxy(relay);
    return proxy;
  }

  /** Bytes held since the freeze, both ways (0 once thawed). */
  get heldBytes(): number {
    return this.#held.reduce((n, h) => n + h.data.length, 0);
  }

  /** Connections the server closed while frozen whose close is held (with `holdServerCloses`). */
  get heldCloses(): number {
    return this.#heldCloses.length;
  }

  /** Delivers what was held to connections still open, and forwards everything from now on. */
  thaw(): void {
    this.#state = 'thawed';
    const held = this.#held;
    this.#held = [];
    for (const { to, data } of held) if (!to.destroyed) to.write(data);
    for (const close of this.#heldCloses.splice(0)) close();
  }

  /** Closes every connection and refuses new ones (the server's host is gone). Safe to call twice. */
  async cut(): Promise<void> {
    this.#held = [];
    this.#heldCloses = [];
    await this.#relay.close();
  }

  /** Closes every connection and stops listening: {@link cut}, for clean-up. */
  stop(): Promise<void> {
    return this.cut();
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

  #wire({ client, upstream }: RelayedPair, trigger: RegExp, replyBytes: number): void {
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
