import { describe, expect, it } from 'vitest';
import { newWriterToken, withWriterToken, writerTokenOf } from './writer-token.js';

describe('writer token', () => {
  it('is random per writer', () => {
    expect(newWriterToken()).not.toBe(newWriterToken());
  });

  it('is found whatever the case of its metadata name (Azure metadata names are case-insensitive)', () => {
    expect(writerTokenOf({ YoinkWriter: 't1' })).toBe('t1');
    expect(writerTokenOf({ other: 'x' })).toBeUndefined();
    expect(writerTokenOf(undefined)).toBeUndefined();
  });

  it('replaces an earlier token and keeps the blob’s other metadata', () => {
    expect(withWriterToken({ owner: 'team-a', YOINKWRITER: 'old' }, 'new')).toEqual({
      owner: 'team-a',
      yoinkwriter: 'new',
    });
  });
});
