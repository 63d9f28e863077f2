/**
 * Learning curves as a picture: a loss panel and, when the loss has an
 * accuracy, an accuracy panel; epochs on x, train and test lines, axes with
 * ticks and labels, and a legend in a row above each panel's plot area, so it
 * never covers a line. The loss panel also shows each batch's loss faintly
 * behind the per-epoch means. Drawn once as a scene (src/scene.ts), written
 * here as SVG; PNG and PDF are drawn from the same scene by the caller
 * (TrainCommandOptions.drawCurves: the CLI's uses resvg and pdfkit), as the
 * training engine does not import the diagram renderers.
 */
import { messages, UserError } from '../diagnostics.js';
import { type Paint, type Pen, type Scene, type Shape, sceneToSvg } from '../scene.js';
import type { EpochMetrics } from './train.js';

export interface CurvesInput {
  title: string;
  history: EpochMetrics[];
  batchLosses?: number[];
  batchesPerEpoch?: number;
}

/** Panel geometry in points, y down from the panel's top; the legend row sits between the title and the plot. */
const PANEL = { width: 440, height: 320, left: 64, right: 16, top: 60, bottom: 48, titleY: 18, legendY: 38 };
const TITLE_HEIGHT = 28;
const COLORS = { train: '#1f77b4', test: '#ff7f0e', batch: '#1f77b4', axis: '#333333', grid: '#e5e5e5', text: '#222222' };
const FONT = 'Arimo';

interface Series {
  label: string;
  color: string;
  points: [number, number][];
  faint?: boolean;
}

export type CurvesFormat = 'svg' | 'png' | 'pdf';

/** The format a --plot path asks for by its extension; a user error for any other. */
export function curvesFormat(path: string): CurvesFormat {
  const format = /\.([^./\\]*)$/.exec(path)?.[1]?.toLowerCase();
  if (format === 'svg' || format === 'png' || format === 'pdf') return format;
  throw new UserError(messages.plotExtension(path));
}

export const curvesSvg = (input: CurvesInput): string => sceneToSvg(curvesScene(input));

export function curvesScene(input: CurvesInput): Scene {
  const { history } = input;
  const epochs = Math.max(1, history.length);
  const at = (pick: (m: EpochMetrics) => number | null): [number, number][] =>
    history.flatMap((m) => (pick(m) === null ? [] : [[m.epoch, pick(m)!] as [number, number]]));
  const perBatch = input.batchesPerEpoch && input.batchesPerEpoch > 1 ? (input.batchLosses ?? []).map((l, i): [number, number] => [(i + 1) / input.batchesPerEpoch!, l]) : [];
  const lossSeries: Series[] = [
    ...(perBatch.length > 0 ? [{ label: 'train (batch)', color: COLORS.batch, points: perBatch.filter(([, y]) => Number.isFinite(y)), faint: true }] : []),
    { label: 'train', color: COLORS.train, points: at((m) => m.loss) },
    { label: 'test', color: COLORS.test, points: at((m) => m.testLoss) },
  ];
  const accSeries: Series[] = [
    { label: 'train', color: COLORS.train, points: at((m) => m.accuracy) },
    { label: 'test', color: COLORS.test, points: at((m) => m.testAccuracy) },
  ];
  const panels = [{ title: 'Loss', yLabel: 'loss', series: lossSeries, percent: false }];
  if (accSeries.some((s) => s.points.length > 0)) panels.push({ title: 'Accuracy', yLabel: 'accuracy', series: accSeries, percent: true });
  const width = PANEL.width * panels.length;
  const height = PANEL.height + TITLE_HEIGHT;
  const draw = new Drawing(height);
  draw.rect(0, 0, width, height, { color: '#ffffff', opacity: 1 });
  draw.text(input.title, width / 2, 20, { size: 15, bold: true, align: 'c' });
  panels.forEach((p, i) => panel(draw, i * PANEL.width, TITLE_HEIGHT, p.title, p.yLabel, p.series, epochs, p.percent));
  return { width, height, shapes: draw.shapes };
}

/** Shapes in SVG-like coordinates (y down from the top) onto a scene (y up). */
class Drawing {
  readonly shapes: Shape[] = [];
  constructor(private readonly height: number) {}
  private up = ([x, y]: [number, number]): [number, number] => [x, this.height - y];
  line(points: [number, number][], color: string, options: { width?: number; opacity?: number; dash?: Pen['dash'] } = {}): void {
    this.shapes.push({ kind: 'path', points: points.map(this.up), curve: false, closed: false, stroke: { color, opacity: options.opacity ?? 1 }, pen: { width: options.width ?? 1, dash: options.dash ?? 'solid' } });
  }
  rect(x: number, y: number, w: number, h: number, fill: Paint, stroke?: string): void {
    const corners: [number, number][] = [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
    this.shapes.push({ kind: 'path', points: corners.map(this.up), curve: false, closed: true, fill, stroke: stroke ? { color: stroke, opacity: 1 } : undefined, pen: { width: 1, dash: 'solid' } });
  }
  dot(x: number, y: number, r: number, color: string): void {
    const [cx, cy] = this.up([x, y]);
    this.shapes.push({ kind: 'ellipse', cx, cy, rx: r, ry: r, fill: { color, opacity: 1 }, pen: { width: 1, dash: 'solid' } });
  }
  text(text: string, x: number, y: number, options: { size: number; align?: 'l' | 'c' | 'r'; bold?: boolean; rotate?: number }): void {
    const [px, py] = this.up([x, y]);
    this.shapes.push({ kind: 'text', x: px, y: py, align: options.align ?? 'l', width: 0, size: options.size, font: FONT, bold: options.bold ?? false, italic: false, paint: { color: COLORS.text, opacity: 1 }, text, rotate: options.rotate });
  }
}

/** Pen of a series: test lines dashed, per-batch losses thin and faint. */
const seriesPen = (s: Series) => (s.faint ? { width: 1, opacity: 0.25 } : { width: 2, dash: s.label === 'test' ? ('dashed' as const) : ('solid' as const) });

function panel(draw: Drawing, x0: number, y0: number, title: string, yLabel: string, series: Series[], epochs: number, percent: boolean): void {
  const { width, height, right, bottom } = PANEL;
  const left = x0 + PANEL.left, top = y0 + PANEL.top;
  const plotW = width - PANEL.left - right, plotH = height - PANEL.top - bottom;
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  // Loss from 0; accuracy up to 100%, down to a round value below the lowest point.
  let [lo, hi] = percent ? [Math.min(...ys, 1), 1] : [0, Math.max(...ys, 1e-3)];
  const yTicks = niceTicks(lo, hi, 5);
  lo = Math.min(lo, yTicks[0]);
  hi = Math.max(hi, yTicks.at(-1)!);
  const xTicks = niceTicks(0, epochs, Math.min(epochs, 10)).filter((t) => Number.isInteger(t));
  const sx = (x: number) => left + (x / epochs) * plotW;
  const sy = (y: number) => top + plotH - ((y - lo) / (hi - lo || 1)) * plotH;
  const fmt = (y: number) => (percent ? `${+(y * 100).toFixed(1)}%` : `${+y.toPrecision(3)}`);
  draw.text(title, left + plotW / 2, y0 + PANEL.titleY, { size: 13, bold: true, align: 'c' });
  for (const t of yTicks) {
    if (t < lo - 1e-12 || t > hi + 1e-12) continue;
    draw.line([[left, sy(t)], [left + plotW, sy(t)]], COLORS.grid);
    draw.text(fmt(t), left - 6, sy(t) + 4, { size: 11, align: 'r' });
  }
  for (const t of xTicks) {
    draw.line([[sx(t), top + plotH], [sx(t), top + plotH + 5]], COLORS.axis);
    draw.text(`${t}`, sx(t), top + plotH + 18, { size: 11, align: 'c' });
  }
  draw.line([[left, top], [left, top + plotH], [left + plotW, top + plotH]], COLORS.axis);
  draw.text('epoch', left + plotW / 2, y0 + height - 10, { size: 12, align: 'c' });
  draw.text(yLabel, x0 + 20, top + plotH / 2, { size: 12, align: 'c', rotate: 90 });
  for (const s of series) {
    if (s.points.length === 0) continue;
    draw.line(s.points.map(([x, y]) => [sx(x), sy(y)]), s.color, seriesPen(s));
    if (!s.faint && s.points.length <= 40) for (const [x, y] of s.points) draw.dot(sx(x), sy(y), 3, s.color);
  }
  // The legend: one row above the plot area, right-aligned, each entry a line sample and its label.
  const shown = series.filter((s) => s.points.length > 0);
  const entryWidth = (s: Series) => 30 + s.label.length * 6.5 + 12; // label width estimated at 11 pt, as wide as Arial's widest lower case
  let lx = left + plotW - shown.reduce((sum, s) => sum + entryWidth(s), 0);
  for (const s of shown) {
    draw.line([[lx, y0 + PANEL.legendY - 4], [lx + 22, y0 + PANEL.legendY - 4]], s.color, seriesPen(s));
    draw.text(s.label, lx + 28, y0 + PANEL.legendY, { size: 11 });
    lx += entryWidth(s);
  }
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t < hi + step - 1e-9 * step; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

