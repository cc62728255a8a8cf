import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Who may use the storage's `S3Client`, and when it is destroyed.
 *
 * A client the storage created is destroyed by `close()` once no read is
 * using it; a read that starts after `close()` gets a fresh client of its own,
 * destroyed when that read ends (or stops early). A client the user passed in
 * is used for everything and never destroyed.
 */
export class ClientLease {
  readonly #client: S3Client;
  readonly #create: (() => S3Client) | undefined;
  #users = 0;
  #released = false;

  /**
   * @param client the storage's client.
   * @param create makes a new client like it, when the storage owns `client`;
   *   `undefined` for a client the user passed in.
   */
  constructor(client: S3Client, create: (() => S3Client) | undefined) {
    this.#client = client;
    this.#create = create;
  }

  /** A client for one read or check; hand it back with {@link ClientLease.done}. */
  acquire(): S3Client {
    if (this.#create === undefined) return this.#client;
    if (this.#released) return this.#create();
    this.#users += 1;
    return this.#client;
  }

  /** Hands back a client from {@link ClientLease.acquire}. */
  done(client: S3Client): void {
    if (this.#create === undefined) return;
    if (client !== this.#client) {
      client.destroy();
      return;
    }
    this.#users -= 1;
    if (this.#released && this.#users === 0) client.destroy();
  }

  /** Called by `close()`: destroys the storage's own client once no read uses it. */
  release(): void {
    if (this.#create === undefined || this.#released) return;
    this.#released = true;
    if (this.#users === 0) this.#client.destroy();
  }
}
