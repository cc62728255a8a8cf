import { describe, expect, it } from 'vitest';
import { escapeXml, formatTick, linearTicks, lineChart, logTicks } from './svg-chart.js';

const base = {
  title: 'cost <per> flush',
  xLabel: 'size (MB)',
  yLabel: 'ms',
  series: [
    {
      name: 'ours & co',
      points: [
        [1, 2],
        [10, 3],
        [100, 2.5],
      ] as [number, number][],
    },
    {
      name: 'seed',
      points: [
        [1, 40],
        [10, 41],
        [100, 39],
      ] as [number, number][],
      dashed: true,
    },
  ],
};

describe('lineChart', () => {
  it('renders a standalone svg document with one path per series and a legend entry each', () => {
    const svg = lineChart(base);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path d="M[^"]* L/g)?.length).toBe(2);
    expect(svg).toContain('>ours &amp; co</text>');
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  it('escapes the title so the document stays well-formed', () => {
    const svg = lineChart(base);
    expect(svg).toContain('cost &lt;per&gt; flush');
    expect(svg).not.toContain('<per>');
  });

  it('labels a log axis with powers of ten and says it is a log scale', () => {
    const svg = lineChart({ ...base, logX: true, logY: true });
    expect(svg).toContain('size (MB) (log scale)');
    for (const tick of ['>1<', '>10<', '>100<']) expect(svg).toContain(tick);
  });

  it('leaves out non-positive points on a log axis instead of drawing them at infinity', () => {
    const svg = lineChart({
      ...base,
      logY: true,
      series: [
        {
          name: 'down',
          points: [
            [1, 0],
            [2, 5],
            [3, 6],
          ],
        },
      ],
    });
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg.match(/<circle/g)?.length).toBe(2 + 1); // two points + the legend marker
  });

  it('draws a labelled reference line', () => {
    const svg = lineChart({ ...base, reference: { y: 64, label: 'target: 64 MB' } });
    expect(svg).toContain('stroke-dasharray="2 3"');
    expect(svg).toContain('target: 64 MB');
  });

  it('throws when there is nothing to draw', () => {
    expect(() => lineChart({ ...base, series: [{ name: 'empty', points: [] }] })).toThrow(
      /no point/,
    );
  });
});

describe('axis ticks', () => {
  it('steps a linear axis by 1, 2 or 5 times a power of ten', () => {
    expect(linearTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(linearTicks(0, 0.5)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it('adds 2× and 5× ticks to a log axis of few decades only', () => {
    expect(logTicks(1, 100)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(logTicks(1, 1e6)).toEqual([1, 10, 100, 1000, 1e4, 1e5, 1e6]);
  });

  it('formats tick labels compactly', () => {
    expect(formatTick(50_000)).toBe('50k');
    expect(formatTick(2_500_000)).toBe('2.5M');
    expect(formatTick(0.25)).toBe('0.25');
    expect(escapeXml('a"b')).toBe('a&quot;b');
  });
});
