// Child process of the S3 read benchmark: runs s3rver and the latency proxy in
// front of it, so that the server's and the proxy's work does not share the
// reading process's thread (as with a real S3, which does its work elsewhere).
// Prints one JSON line ({ endpoint, port, proxy, clientConfig }) once ready;
// stops when its stdin closes.
//
//   node dist/read-server-child.js <bucket> <delayMs>

import { startLatencyProxy } from '@yoink/test-servers/proxies';
import { startS3rver } from '@yoink/test-servers/s3';

const [bucket = 'yoink-bench', delay = '20'] = process.argv.slice(2);
const server = await startS3rver({ buckets: [bucket] });
const proxy = await startLatencyProxy(server.port, Number(delay));
process.stdout.write(
  `${JSON.stringify({
    endpoint: server.endpoint,
    port: server.port,
    proxy: proxy.endpoint,
    clientConfig: server.clientConfig,
  })}\n`,
);
process.stdin.on('end', () => {
  void Promise.allSettled([proxy.stop(), server.stop()]).then(() => process.exit(0));
});
process.stdin.resume();
