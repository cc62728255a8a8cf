import { describe, expect, it } from 'vitest';
import { describeHolder, parseHolder } from './lease.js';

describe('the lease holder', () => {
  it('is parsed from the JSON a writer stores in its lease key', () => {
    const raw = JSON.stringify({
      token: 't',
      host: 'crawler-3',
      pid: 42,
      since: '2026-01-02T03:04:05Z',
    });
    expect(parseHolder(raw)).toEqual({
      token: 't',
      host: 'crawler-3',
      pid: 42,
      since: '2026-01-02T03:04:05Z',
    });
    expect(describeHolder(raw)).toBe(
      'the writer on host crawler-3, pid 42, writing since 2026-01-02T03:04:05Z',
    );
  });

  it('is described with question marks for missing fields', () => {
    expect(describeHolder('{"pid":7}')).toBe('the writer on host ?, pid 7, writing since ?');
  });

  it('is "an unknown writer" with the raw value when the value is not ours', () => {
    for (const raw of ['not json', '"a string"', '', 12, null]) {
      expect(parseHolder(raw), String(raw)).toBeUndefined();
      expect(describeHolder(raw)).toBe(
        `an unknown writer (lease value ${JSON.stringify(String(raw))})`,
      );
    }
  });
});
