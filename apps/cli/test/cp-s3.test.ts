import { startS3rver } from '@yoink/test-servers/s3';
import { describe } from 'vitest';
import { describeCpRoundTrip } from './round-trip.js';

const BUCKET = 'yoink-cli';

describe('yoink-storage cp between local files and S3 (s3rver)', () => {
  describeCpRoundTrip(async () => {
    const server = await startS3rver({ buckets: [BUCKET] });
    const { accessKeyId, secretAccessKey } = server.clientConfig.credentials;
    return {
      backend: {
        uri: (name) =>
          // s3rver ignores conditional headers: it takes the explicit opt-out.
          `s3://${BUCKET}/cli/${name}.jsonl?endpoint=${server.endpoint}&forcePathStyle=true&conditionalWrites=off`,
        env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
      },
      stop: () => server.stop(),
    };
  });
});
