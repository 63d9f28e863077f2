/**
 * Learning curves as a standalone SVG: a loss panel and, when the loss has an
 * accuracy, an accuracy panel; epochs on x, train and test lines with a
 * legend, axes with ticks and labels. The loss panel also shows each batch's
 * loss faintly behind the per-epoch means. Hand-written SVG, no dependencies.
 */
import type { EpochMetrics } from './train.js';

export interface CurvesInput {
  title: string;
  history: EpochMetrics[];
  batchLosses?: number[];
  batchesPerEpoch?: number;
}

const PANEL = { width: 440, height: 300, left: 64, right: 16, top: 40, bottom: 48 };
const COLORS = { train: '#1f77b4', test: '#ff7f0e', batch: '#1f77b4', axis: '#333', grid: '#e5e5e5', text: '#222' };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

interface Series {
  label: string;
  color: string;
  points: [number, number][];
  faint?: boolean;
}

export function curvesSvg(input: CurvesInput): string {
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
  const panels = [panel('Loss', 'loss', lossSeries, epochs, false)];
  if (accSeries.some((s) => s.points.length > 0)) panels.push(panel('Accuracy', 'accuracy', accSeries, epochs, true));
  const width = PANEL.width * panels.length;
  const height = PANEL.height + 28;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold" fill="${COLORS.text}">${escape(input.title)}</text>`,
    ...panels.map((p, i) => `<g transform="translate(${i * PANEL.width}, 28)">\n${p}\n</g>`),
    '</svg>',
    '',
  ].join('\n');
}

function panel(title: string, yLabel: string, series: Series[], epochs: number, percent: boolean): string {
  const { width, height, left, right, top, bottom } = PANEL;
  const plotW = width - left - right, plotH = height - top - bottom;
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
  const out: string[] = [];
  out.push(`<text x="${left + plotW / 2}" y="${top - 14}" text-anchor="middle" font-size="13" font-weight="bold" fill="${COLORS.text}">${title}</text>`);
  for (const t of yTicks) {
    if (t < lo - 1e-12 || t > hi + 1e-12) continue;
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${r(sy(t))}" y2="${r(sy(t))}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${left - 6}" y="${r(sy(t)) + 4}" text-anchor="end" font-size="11" fill="${COLORS.text}">${fmt(t)}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${r(sx(t))}" x2="${r(sx(t))}" y1="${top + plotH}" y2="${top + plotH + 5}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${r(sx(t))}" y="${top + plotH + 18}" text-anchor="middle" font-size="11" fill="${COLORS.text}">${t}</text>`);
  }
  out.push(`<path d="M${left},${top} V${top + plotH} H${left + plotW}" fill="none" stroke="${COLORS.axis}"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle" font-size="12" fill="${COLORS.text}">epoch</text>`);
  out.push(`<text transform="translate(16, ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${COLORS.text}">${yLabel}</text>`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${r(sx(x))},${r(sy(y))}`).join(' ');
    if (s.faint) {
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-opacity="0.25" stroke-width="1"/>`);
      continue;
    }
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.label === 'test' ? ' stroke-dasharray="6 3"' : ''}/>`);
    if (s.points.length <= 40) for (const [x, y] of s.points) out.push(`<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="3" fill="${s.color}"/>`);
  }
  // Legend at the right, at the top unless the right half's lines run high.
  const shown = series.filter((s) => s.points.length > 0);
  const late = series.flatMap((s) => s.points.filter(([x]) => x > epochs / 2).map(([, y]) => sy(y)));
  const high = late.length > 0 && late.reduce((a, b) => a + b, 0) / late.length < top + plotH / 2;
  const lx = left + plotW - 118, ly = high ? top + plotH - shown.length * 18 - 10 : top + 8;
  out.push(`<rect x="${lx - 6}" y="${ly - 4}" width="118" height="${shown.length * 18 + 6}" fill="white" fill-opacity="0.85" stroke="${COLORS.grid}"/>`);
  shown.forEach((s, i) => {
    const y = ly + 8 + i * 18;
    const style = s.faint ? 'stroke-opacity="0.35" stroke-width="1"' : `stroke-width="2"${s.label === 'test' ? ' stroke-dasharray="6 3"' : ''}`;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${y}" y2="${y}" stroke="${s.color}" ${style}/>`);
    out.push(`<text x="${lx + 28}" y="${y + 4}" font-size="11" fill="${COLORS.text}">${s.label}</text>`);
  });
  return out.join('\n');
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

const r = (x: number) => Math.round(x * 10) / 10;
/** Text as XML character data: markup escaped, and what XML 1.0 forbids (controls but tab and line ends, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD. */
const escape = (s: string) =>
  s
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
