import { describe, expect, it } from 'vitest';
import { mergeReport, reportSections } from './report.js';

describe('mergeReport', () => {
  it('writes the sections of a run in report order, each between its markers', () => {
    const md = mergeReport(
      undefined,
      ['a', 'b'],
      new Map([
        ['b', ['## B']],
        ['a', ['## A']],
      ]),
    );
    expect(md.indexOf('## A')).toBeLessThan(md.indexOf('## B'));
    expect([...reportSections(md).keys()]).toEqual(['a', 'b']);
    expect(md).toMatch(/^# Benchmarks/);
    expect(md).toMatch(/## Method/);
  });

  it('replaces only the sections measured now and keeps the others as they were', () => {
    const first = mergeReport(
      undefined,
      ['a', 'b', 'c'],
      new Map([
        ['a', ['## A', 'old a']],
        ['b', ['## B', 'old b']],
      ]),
    );
    const second = mergeReport(
      first,
      ['a', 'b', 'c'],
      new Map([
        ['b', ['## B', 'new b']],
        ['c', ['## C']],
      ]),
    );
    const s = reportSections(second);
    expect(s.get('a')).toBe(reportSections(first).get('a'));
    expect(s.get('b')).toContain('new b');
    expect(second).not.toContain('old b');
    expect([...s.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('keeps a section whose id the runner does not know, after the known ones', () => {
    const first = mergeReport(
      undefined,
      ['x', 'a'],
      new Map([
        ['x', ['## X']],
        ['a', ['## A']],
      ]),
    );
    const second = mergeReport(first, ['a'], new Map([['a', ['## A again']]]));
    expect([...reportSections(second).keys()]).toEqual(['a', 'x']);
  });

  it('keeps a report from before the markers whole after a partial run, and drops it in a run of every section', () => {
    const old = '# Benchmarks\n\n## Local files\n\nold figures\n';
    const partial = mergeReport(old, ['a'], new Map([['a', ['## A']]]));
    expect(partial).toContain('old figures');
    expect(partial.indexOf('## A')).toBeLessThan(partial.indexOf('old figures'));
    expect(mergeReport(partial, ['a'], new Map([['a', ['## A']]]), true)).not.toContain(
      'old figures',
    );
  });
});
