import { describe, expect, it } from 'vitest';
import { redactUri, scrubSecrets } from './redact.js';

describe('redactUri', () => {
  it('masks the password and keeps the user', () => {
    expect(redactUri('redis://app:hunter2@cache:6379/0?key=crawl')).toBe(
      'redis://app:***@cache:6379/0?key=crawl',
    );
    expect(redactUri('rediss://:hunter2@cache')).toBe('rediss://:***@cache');
  });

  it('masks a lone userinfo, which is often a token', () => {
    expect(redactUri('https://ghp_abcdef@host/x')).toBe('https://***@host/x');
  });

  it('masks secret-looking query parameters and keeps the rest', () => {
    const out = redactUri(
      's3://b/k.jsonl?region=eu-west-1&accessKeyId=AKIA123&secretAccessKey=s3cr3t&X-Amz-Signature=abc&token=t0k&key=crawl',
    );
    expect(out).toBe(
      's3://b/k.jsonl?region=eu-west-1&accessKeyId=***&secretAccessKey=***&X-Amz-Signature=***&token=***&key=crawl',
    );
  });

  it('leaves plain paths and credential-free URIs alone', () => {
    for (const p of [
      './crawl.jsonl',
      '/abs/a@b.jsonl',
      'C:\\crawls\\a.jsonl',
      's3://bucket/key',
      'memory://x',
    ]) {
      expect(redactUri(p)).toBe(p);
    }
  });

  it('handles passwords with @ and : in them', () => {
    expect(redactUri('redis://u:p@ss:w@rd@host:1/0')).toBe('redis://u:***@host:1/0');
  });
});

describe('scrubSecrets', () => {
  it('removes the password wherever a client echoed it', () => {
    const uri = 'redis://u:hunter2@host';
    expect(scrubSecrets('AUTH failed for hunter2 at redis://u:hunter2@host', uri)).toBe(
      'AUTH failed for *** at redis://u:***@host',
    );
  });

  it('removes encoded and decoded forms', () => {
    const uri = 'redis://u:p%40ss@host';
    expect(scrubSecrets('bad password p@ss / p%40ss', uri)).toBe('bad password *** / ***');
  });
});
