// Entry point `@yoink/test-servers/s3`: S3-compatible servers (s3rver in
// this process, moto_server as a child) for tests and benchmarks.
export { startMoto } from './moto.js';
export type { S3TestClientConfig, S3TestServer, S3TestServerOptions } from './s3-test-server.js';
export { startS3rver } from './s3rver.js';
