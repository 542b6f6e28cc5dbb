// The suite's figure (src/experiments/report.ts): one colour per method across panels, a legend wide enough for
// its labels, and a log axis that spreads values within a factor of a few over 1-2-5 (or 1-9) ticks.
import { describe, expect, it } from 'vitest';
import { logAxis, svgFigure } from '../../src/experiments/report.ts';
import type { Curve } from '../../src/experiments/suite.ts';

const curve = (experiment: string, label: string, points: [number, number][]): Curve => ({ experiment, label, points, xScale: 'log', xLabel: 'N', yLabel: 'D' });

describe('svgFigure', () => {
  const long = "truth's components, the training set's weights (reverse diffusion)";
  const svg = svgFigure([
    curve('panel A', 'student', [[1000, 0.06], [4000, 0.05]]),
    curve('panel A', long, [[1000, 0.09], [4000, 0.064]]),
    curve('panel B', long, [[1000, 0.04], [4000, 0.041]]),
    curve('panel B', 'piecewise', [[1000, 0.07], [4000, 0.045]]),
    curve('panel B', 'student', [[1000, 0.8], [4000, 0.8]]),
  ]);
  const legend = [...svg.matchAll(/<text x="(\d+)" y="[\d.]+" font-size="11" fill="(#[0-9a-f]+)">([^<]+)<\/text>/g)].map((m) => ({ x: Number(m[1]), colour: m[2]!, label: m[3]! }));

  it('gives a method the same colour in every panel, and different methods different colours', () => {
    expect(legend).toHaveLength(5);
    const byLabel = new Map<string, Set<string>>();
    for (const l of legend) byLabel.set(l.label, (byLabel.get(l.label) ?? new Set()).add(l.colour));
    for (const colours of byLabel.values()) expect(colours.size).toBe(1);
    expect(new Set(legend.map((l) => l.colour)).size).toBe(3);
  });

  it('is wide enough for its longest legend label', () => {
    const width = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    const x = legend.find((l) => l.label === long)!.x; // no character of this label is escaped
    // 6 px is more than the mean glyph width of an 11 px sans-serif font (about 5.5 px).
    expect(width - x).toBeGreaterThanOrEqual(6 * long.length);
  });
});

describe('logAxis', () => {
  it('bounds values within a factor of a few by 1-2-5 ticks', () => {
    const ticks = logAxis(Math.log10(0.045), Math.log10(0.13));
    expect(ticks.map((t) => t.text)).toEqual(['2e-2', '5e-2', '1e-1', '2e-1']);
    expect(ticks[0]!.at).toBeLessThanOrEqual(Math.log10(0.045));
    expect(ticks.at(-1)!.at).toBeGreaterThanOrEqual(Math.log10(0.13));
  });

  it('ticks every integer multiple within a factor of two', () => {
    expect(logAxis(Math.log10(0.061), Math.log10(0.095)).map((t) => t.text)).toEqual(['6e-2', '7e-2', '8e-2', '9e-2', '1e-1']);
  });

  it('keeps to decades over a wide range, and widens a single value to a tick above', () => {
    expect(logAxis(-6, Math.log10(0.07)).map((t) => t.text)).toEqual(['1e-6', '1e-5', '1e-4', '1e-3', '1e-2', '1e-1']);
    expect(logAxis(-1, -1).map((t) => t.text)).toEqual(['1e-1', '2e-1']);
  });
});
