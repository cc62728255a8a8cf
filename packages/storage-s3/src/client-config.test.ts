import { describe, expect, it } from 'vitest';
import { buildClientConfig } from './client-config.js';

describe('buildClientConfig', () => {
  it('with a custom endpoint, computes checksums only when required and defaults the region', () => {
    expect(buildClientConfig({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'us-east-1',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
    });
  });

  it('treats an endpoint given in clientConfig as custom too', () => {
    const config = buildClientConfig({}, { endpoint: 'https://acc.r2.cloudflarestorage.com' });
    expect(config.requestChecksumCalculation).toBe('WHEN_REQUIRED');
    expect(config.responseChecksumValidation).toBe('WHEN_REQUIRED');
  });

  it("leaves AWS's own defaults alone without an endpoint", () => {
    expect(buildClientConfig({ region: 'eu-west-1', maxAttempts: 5 })).toEqual({
      region: 'eu-west-1',
      maxAttempts: 5,
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
    });
  });

  it('sets the request handler timeouts (the SDK sets none), and a requestHandler in clientConfig wins', () => {
    expect(
      buildClientConfig({ requestTimeoutMs: 1_500, connectionTimeoutMs: 700 }).requestHandler,
    ).toEqual({ connectionTimeout: 700, socketTimeout: 1_500 });
    const own = { requestTimeout: 9 };
    expect(
      buildClientConfig({ requestTimeoutMs: 1_500 }, { requestHandler: own }).requestHandler,
    ).toBe(own);
  });

  it("lets the user's clientConfig win", () => {
    const config = buildClientConfig(
      { endpoint: 'http://x:1', region: 'eu-west-1' },
      { requestChecksumCalculation: 'WHEN_SUPPORTED', region: 'auto' },
    );
    expect(config.requestChecksumCalculation).toBe('WHEN_SUPPORTED');
    expect(config.responseChecksumValidation).toBe('WHEN_REQUIRED');
    expect(config.region).toBe('auto');
  });
});
