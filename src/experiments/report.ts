// The suite's outputs: a fixed-width table for the terminal and a self-contained SVG of error against
// step per method (log-scaled error axis), one panel per experiment with curves.
import type { Curve, Row } from './suite.ts';

function num(v: number | undefined, digits = 4): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return Number(v.toPrecision(digits)).toString();
}

export function table(rows: Row[]): string[] {
  const head = ['experiment', 'setting', 'method', 'value', 'steps', 'seconds', 'EM', 'note'];
  const body = rows.map((r) => [r.experiment, r.setting, r.method, `${r.valueName} ${num(r.value)}`, num(r.steps, 3), num(r.seconds, 3), num(r.em), r.note ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

/** An upper bound on the width of one legend character at font-size 11 (sans-serif), so that no label is clipped. */
const LEGEND_CHAR_PX = 6.5;

/**
 * The ticks of a log10 axis over [lo, hi] (log10 units): at the decades when the data span more than three,
 * otherwise at 1, 2 and 5 times the powers of ten, or at every integer multiple where those give fewer than four
 * ticks, so that values within a factor of a few are not squeezed into one band. The first and last tick bound
 * the axis.
 */
export function logAxis(lo: number, hi: number): { at: number; text: string }[] {
  const ticks = (marks: readonly number[]): { at: number; text: string }[] => {
    const all: { at: number; text: string }[] = [];
    for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi) + 1; e++) for (const m of marks) all.push({ at: e + Math.log10(m), text: `${m}e${e}` });
    const eps = 1e-9;
    const first = all.length - 1 - [...all].reverse().findIndex((x) => x.at <= lo + eps);
    let last = all.findIndex((x) => x.at >= hi - eps);
    if (last <= first) last = first + 1;
    return all.slice(first, last + 1);
  };
  if (hi - lo > 3) return ticks([1]);
  const coarse = ticks([1, 2, 5]);
  return coarse.length >= 4 ? coarse : ticks([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * One SVG with a panel per experiment: by default x = step (linear) and y = log10 of the largest matched
 * error; a panel whose curves say yScale 'linear' (the connections' cosines against t) has a linear y.
 */
export function svgFigure(curves: Curve[]): string {
  const groups = new Map<string, Curve[]>();
  for (const c of curves) if (c.points.length > 0) groups.set(c.experiment, [...(groups.get(c.experiment) ?? []), c]);
  // One colour per method across every panel, and a legend as wide as its longest label.
  const colours = new Map<string, string>();
  for (const c of [...groups.values()].flat()) if (!colours.has(c.label)) colours.set(c.label, COLOURS[colours.size % COLOURS.length]!);
  const panelW = 520;
  const panelH = 300;
  const pad = { l: 60, r: Math.max(170, 20 + Math.ceil(LEGEND_CHAR_PX * Math.max(0, ...[...colours.keys()].map((l) => l.length)))), t: 30, b: 40 };
  const width = panelW + pad.l + pad.r;
  const height = Math.max(1, groups.size) * (panelH + pad.t + pad.b);
  const parts: string[] = [];
  let gi = 0;
  for (const [name, cs] of groups) {
    const y0 = gi * (panelH + pad.t + pad.b) + pad.t;
    const pts = cs.flatMap((c) => c.points);
    // Log x (the sampling panels' h, N and d): the points' range in decades; otherwise from 0 to the largest x.
    const logX = cs[0]!.xScale === 'log';
    const g = logX ? (x: number): number => Math.log10(x) : (x: number): number => x;
    const xLo = logX ? Math.min(...pts.map((p) => g(p[0]))) : 0;
    const xMax = logX ? Math.max(...pts.map((p) => g(p[0])), xLo + 1e-9) : Math.max(...pts.map((p) => p[0]), 1);
    const linear = cs[0]!.yScale === 'linear';
    // Log panels: decades of the error. Linear panels (cosines): from min(0, lowest) to 1 in tenths.
    const f = linear ? (y: number): number => y : (y: number): number => Math.log10(Math.max(y, 1e-6));
    const ys = pts.map((p) => f(p[1]));
    const logTicks = linear ? [] : logAxis(Math.min(...ys), Math.max(...ys));
    const yLo = linear ? Math.min(0, Math.floor(Math.min(...ys) * 10) / 10) : logTicks[0]!.at;
    const yHi = linear ? Math.max(1, Math.ceil(Math.max(...ys) * 10) / 10) : logTicks.at(-1)!.at;
    const X = (x: number): number => pad.l + ((g(x) - xLo) / (xMax - xLo)) * panelW;
    const Y = (y: number): number => y0 + panelH - ((f(y) - yLo) / (yHi - yLo)) * panelH;
    const yLabel = cs[0]!.yLabel ?? 'largest matched centre error';
    const xLabel = cs[0]!.xLabel ?? 'step';
    parts.push(`<text x="${pad.l}" y="${y0 - 10}" font-size="14" font-weight="bold">${escape(name)}: ${escape(yLabel)} vs ${escape(xLabel)}</text>`);
    parts.push(`<rect x="${pad.l}" y="${y0}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
    const ticks = linear ? Array.from({ length: Math.round((yHi - yLo) * 5) + 1 }, (_, i) => ({ at: yLo + i / 5, text: (yLo + i / 5).toFixed(1) })) : logTicks;
    for (const { at: e, text } of ticks) {
      const y = y0 + panelH - ((e - yLo) / (yHi - yLo)) * panelH;
      parts.push(`<line x1="${pad.l}" x2="${pad.l + panelW}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${pad.l - 6}" y="${y + 4}" font-size="11" text-anchor="end">${text}</text>`);
    }
    for (let i = 0; i <= 4; i++) {
      const x = logX ? 10 ** (xLo + ((xMax - xLo) * i) / 4) : (xMax * i) / 4;
      const text = !logX && xMax >= 20 ? String(Math.round(x)) : String(Number(x.toPrecision(3)));
      parts.push(`<text x="${X(x)}" y="${y0 + panelH + 16}" font-size="11" text-anchor="middle">${text}</text>`);
    }
    parts.push(`<text x="${pad.l + panelW / 2}" y="${y0 + panelH + 32}" font-size="12" text-anchor="middle">${escape(xLabel)}</text>`);
    cs.forEach((c, i) => {
      const colour = colours.get(c.label)!;
      const path = c.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
      const dash = c.label.startsWith('em') ? ' stroke-dasharray="5,3"' : '';
      parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.6"${dash}/>`);
      // A few measured points (the connections' t values, the sampling sweeps): mark each one.
      if (linear || logX) for (const p of c.points) parts.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${colour}"/>`);
      parts.push(`<text x="${pad.l + panelW + 10}" y="${y0 + 14 + 14 * i}" font-size="11" fill="${colour}">${escape(c.label)}</text>`);
    });
    gi++;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
