import { describe, expect, it } from 'vitest';
import { parseRunArgs } from './args.js';

describe('parseRunArgs', () => {
  it('defaults to the full run writing into the repository docs folder', () => {
    expect(parseRunArgs([], '/repo')).toEqual({ quick: false, outDir: '/repo/docs' });
  });

  it('takes --quick and an --out folder relative to the working folder', () => {
    expect(parseRunArgs(['--quick', '--out', 'tmp/report'], '/repo', '/work')).toEqual({
      quick: true,
      outDir: '/work/tmp/report',
    });
  });

  it('rejects an unknown option instead of ignoring it', () => {
    expect(() => parseRunArgs(['--fast'], '/repo')).toThrow(/--fast/);
  });
});
