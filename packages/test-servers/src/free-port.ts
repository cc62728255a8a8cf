import { createServer } from 'node:net';

/** A TCP port the OS just reported free on 127.0.0.1 (listen on port 0, then close). */
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
