import { describe, expect, it } from 'vitest';
import { MAX_URI_LENGTH, redactUri, scrubSecrets } from './redact.js';

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

describe('redactUri: passwords written without percent-encoding', () => {
  it('masks a password that holds /, ?, # or @', () => {
    expect(redactUri('redis://u:pa/ss@host:6379/0?key=k')).toBe('redis://u:***@host:6379/0?key=k');
    expect(redactUri('redis://u:pa?ss@host:6379/0?key=k')).toBe('redis://u:***@host:6379/0?key=k');
    expect(redactUri('redis://u:pa#ss@host/0?key=k')).toBe('redis://u:***@host/0?key=k');
    expect(redactUri('redis://:p@ss/w#?rd@host')).toBe('redis://:***@host');
    expect(redactUri('rediss://u:1234/56@host/0?key=k')).toBe('rediss://u:***@host/0?key=k');
  });

  it('does not mistake an @ in the path or query for userinfo', () => {
    for (const uri of [
      'redis://h:6379/0?key=a@b',
      'redis://localhost/0?key=user@example.com',
      's3://bucket/folder/a@b.jsonl',
      's3://bucket/a:b@c.jsonl',
      'file:///srv/a@b.jsonl',
      '/abs/a@b.jsonl',
    ]) {
      expect(redactUri(uri), uri).toBe(uri);
    }
  });

  it('masks userinfo inside a parameter value (S3 endpoint=), encoded or not', () => {
    expect(redactUri('s3://b/k?endpoint=http://user:pass@minio:9000&region=x')).toBe(
      's3://b/k?endpoint=http://user:***@minio:9000&region=x',
    );
    expect(
      redactUri(`s3://b/k?endpoint=${encodeURIComponent('http://user:pa/ss@minio:9000')}`),
    ).toBe(`s3://b/k?endpoint=${encodeURIComponent('http://user:***@minio:9000')}`);
  });

  it('masks the secret parameters of a URL inside a parameter (a SAS endpoint=), raw or encoded', () => {
    const sas = 'https://acct.blob.core.windows.net/c?sv=2024-01-01&sp=racw&sig=S3cr3tSig%3D';
    expect(redactUri(`azblob://c/b.jsonl?endpoint=${sas}`)).toBe(
      'azblob://c/b.jsonl?endpoint=https://acct.blob.core.windows.net/c?sv=2024-01-01&sp=racw&sig=***',
    );
    expect(redactUri(`azblob://c/b.jsonl?endpoint=${encodeURIComponent(sas)}`)).toBe(
      `azblob://c/b.jsonl?endpoint=${encodeURIComponent('https://acct.blob.core.windows.net/c?sv=2024-01-01&sp=racw&sig=***')}`,
    );
    expect(
      scrubSecrets(
        'signature S3cr3tSig= refused',
        `azblob://c/b?endpoint=${encodeURIComponent(sas)}`,
      ),
    ).toBe('signature *** refused');
  });

  it('masks every password, whatever its length', () => {
    expect(redactUri('redis://u:a@h')).toBe('redis://u:***@h');
    expect(redactUri('redis://u:ab@h?key=k')).toBe('redis://u:***@h?key=k');
  });

  it('does not print a URI longer than MAX_URI_LENGTH at all', () => {
    const long = `redis://u:${'p'.repeat(MAX_URI_LENGTH)}@h`;
    const out = redactUri(long);
    expect(out).not.toContain('ppp');
    expect(out).toContain(`${long.length}-character`);
  });
});

describe('scrubSecrets: short and odd secrets', () => {
  it('removes a 1- or 2-character password where it stands alone, not inside words', () => {
    const uri = 'redis://u:ab@host';
    expect(scrubSecrets("WRONGPASS for 'ab' (unreachable about ab)", uri)).toBe(
      "WRONGPASS for '***' (unreachable about ***)",
    );
    expect(scrubSecrets('x=%/x', 'redis://u:%/@h')).toBe('x=***x');
  });

  it('replaces copies of the raw URI with the redacted one first', () => {
    const uri = 'redis://u:pa/ss@h:1/0?key=k';
    expect(scrubSecrets(`Invalid URL: ${uri}`, uri)).toBe('Invalid URL: redis://u:***@h:1/0?key=k');
  });

  it('scrubs userinfo from a parameter value', () => {
    const uri = 's3://b/k?endpoint=http://user:s3cr3t@minio';
    expect(scrubSecrets('connect to minio with s3cr3t failed', uri)).toBe(
      'connect to minio with *** failed',
    );
  });
});

describe('redaction is linear in the input', () => {
  // No wall-clock threshold: for 16× the input, quadratic work shows as a
  // growth ratio near 256 and linear work near 16; the bound sits 4× from
  // each. The fastest of several runs, which other processes sharing the
  // CPUs can only slow down, not speed up.
  function cost(fn: () => void): number {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      fn();
      best = Math.min(best, performance.now() - t);
    }
    return best;
  }

  it('redactUri and scrubSecrets grow linearly on hostile input', () => {
    const hostile = (n: number): string =>
      `redis://u:${'?a'.repeat(n / 4)}@${'&b@'.repeat(n / 6)}/?${'?x'.repeat(n / 4)}`;
    const small = hostile(128 * 1024);
    const big = hostile(2 * 1024 * 1024);
    cost(() => redactUri(small)); // warm-up
    const ratio =
      cost(() => {
        redactUri(big.slice(0, MAX_URI_LENGTH));
        scrubSecrets(big, big);
      }) /
      Math.max(
        0.05,
        cost(() => {
          redactUri(small.slice(0, MAX_URI_LENGTH));
          scrubSecrets(small, small);
        }),
      );
    expect(ratio).toBeLessThan(64);
  });
});
