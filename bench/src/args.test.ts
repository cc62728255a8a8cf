import { describe, expect, it } from 'vitest';
import { GROUPS, parseRunArgs } from './args.js';

describe('parseRunArgs', () => {
  it('defaults to the full run of every group, writing into the repository docs folder', () => {
    expect(parseRunArgs([], '/repo')).toEqual({
      quick: false,
      outDir: '/repo/docs',
      only: GROUPS,
      command: 'pnpm bench',
    });
  });

  it('takes --quick and an --out folder relative to the working folder', () => {
    expect(parseRunArgs(['--quick', '--out', 'tmp/report'], '/repo', '/work')).toMatchObject({
      quick: true,
      outDir: '/work/tmp/report',
      command: 'pnpm bench --quick --out tmp/report',
    });
  });

  it('takes --only, repeated or comma-separated, in report order', () => {
    expect(parseRunArgs(['--only', 's3', '--only', 'local,redis'], '/repo')).toMatchObject({
      only: ['local', 'redis', 's3'],
      command: 'pnpm bench --only local,redis,s3',
    });
  });

  it('rejects an unknown option or --only group instead of ignoring it', () => {
    expect(() => parseRunArgs(['--fast'], '/repo')).toThrow(/--fast/);
    expect(() => parseRunArgs(['--only', 'mongo'], '/repo')).toThrow(/--only takes .*"mongo"/);
  });
});
