import { createServer } from 'node:net';

/** Reads an async iterable of lines into an array (for tests; it holds them all). */
export async function collectLines(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of iterable) out.push(line);
  return out;
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago, for a test server.
 * The OS picks it (listen on port 0), so parallel test files do not collide.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not get a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
