/**
 * Fitting a diagram to a page: the targets (`--fit 16:9|4:3|a4|column|none`), an
 * estimate of the drawn size from the labels alone (no Graphviz run, so the DOT
 * stays a pure function of graph and options), and the choice of rows.
 *
 * A long chain is cut into rows at places where one tensor alone crosses the cut
 * and no block cluster is split; emit.ts draws the rows as a snake (every other row
 * runs backwards, joined by short turn arrows). The number of rows is the one whose
 * estimated drawing, scaled to fit the target, has the largest text.
 * Sizes are in points (1/72 in), as Graphviz measures them.
 *
 * Not here: writing DOT (emit.ts).
 */
export type FitName = '16:9' | '4:3' | 'a4' | 'column' | 'none';
export const FIT_NAMES: readonly FitName[] = ['16:9', '4:3', 'a4', 'column', 'none'];

export interface FitTarget {
  /** The area the drawing is scaled into, in points. */
  width: number;
  height: number;
  /** The smallest readable node text on it, in points. */
  minText: number;
  /** How a message names it. */
  what: string;
}

/**
 * Slides are 1920x1080 and 1440x1080 pixels (1 px = 3/4 pt), where a lecture hall needs
 * text of 18 px; a4 is its text block (160 x 240 mm) and column a one-column figure
 * (85 mm wide, at most 110 mm high), where 7 and 6 pt text stays readable in print.
 */
export const FIT_TARGETS: Record<Exclude<FitName, 'none'>, FitTarget> = {
  '16:9': { width: 1440, height: 810, minText: 13.5, what: 'a 1920x1080 slide' },
  '4:3': { width: 1080, height: 810, minText: 13.5, what: 'a 1440x1080 slide' },
  a4: { width: 453.5, height: 680.3, minText: 7, what: 'an A4 text block' },
  column: { width: 241, height: 312, minText: 6, what: 'a one-column figure' },
};

/** Arial's (so Arimo's) mean advance of diagram text, in ems: labels are mostly lower case and digits. */
const EM = 0.56;

/** A box's size in points for `lines` of text at `fontSize`, with the node margins of theme.ts. */
export function boxSize(lines: string[], fontSize: number): { w: number; h: number } {
  const chars = Math.max(1, ...lines.map((l) => [...l].length));
  return { w: chars * EM * fontSize + 9, h: Math.max(21.6, lines.length * fontSize * 1.2 + 6) };
}

export interface FitBox {
  w: number;
  h: number;
  /** Longest-path depth from the inputs: a rank of the layout. */
  depth: number;
  /** Keys of the enclosing clusters, outermost first. */
  clusters: string[];
}

export interface FitSizes {
  /** Gap between ranks, between nodes of one rank, and around a cluster's contents. */
  rankGap: number;
  nodeGap: number;
  clusterPad: number;
  /** Room for edge labels between two ranks. */
  labelGap: number;
  /** The caption: added across the rows. */
  extraAcross: number;
  /** The legend's chips: their lengths along the rows, and the breadth of one strip of them. */
  legend: number[];
  legendAcross: number;
}

/** A link between two boxes (indices), and whether it is a skip connection (drawn without ranking its head). */
export type FitLink = [number, number, boolean];

export interface RowPlan {
  /** The first depth of each row. */
  starts: number[];
  /** The first chip of each legend strip: the legend wraps to stay within the rows' length. */
  legendStarts: number[];
  /** Estimated drawing size and the node text size once fitted to the target, in points. */
  width: number;
  height: number;
  text: number;
}

/**
 * Rows for a drawing of `boxes` (in depth order) joined by `links`, with text of
 * `fontSize`, fitted to `target`; `lr` lays rows along x (LR) or columns along y (TB).
 */
export function planRows(boxes: FitBox[], links: FitLink[], fontSize: number, target: FitTarget | undefined, lr: boolean, sizes: FitSizes): RowPlan {
  const depths = Math.max(0, ...boxes.map((b) => b.depth)) + 1;
  // Per depth: its length along the reading direction, and its breadth across it.
  const along = new Array<number>(depths).fill(0);
  const across = new Array<number>(depths).fill(0);
  for (const b of boxes) {
    along[b.depth] = Math.max(along[b.depth], (lr ? b.w : b.h) + sizes.rankGap + sizes.labelGap);
    across[b.depth] += (lr ? b.h : b.w) + sizes.nodeGap + b.clusters.length * sizes.clusterPad;
  }
  const cuts = cutPoints(boxes, links, depths, false);
  // Two rows may also be cut where skip connections cross: the second row runs back under
  // the first, so they fall straight down (a U-Net's U).
  const halves = cutPoints(boxes, links, depths, true);
  const prefix = [0];
  for (const a of along) prefix.push(prefix.at(-1)! + a);
  const measure = (starts: number[]): RowPlan => {
    const rows = starts.map((s, i) => [s, starts[i + 1] ?? depths]);
    const lengths = rows.map(([a, b]) => prefix[b] - prefix[a]);
    const breadths = rows.map(([a, b]) => Math.max(0, ...across.slice(a, b)) + 2 * sizes.clusterPad);
    const length = Math.max(...sizes.legend, ...lengths) + 2 * sizes.clusterPad;
    const legendStarts = target ? wrap(sizes.legend, length) : sizes.legend.length > 0 ? [0] : [];
    const breadth = breadths.reduce((x, y) => x + y, 0) + (rows.length - 1) * sizes.nodeGap + sizes.extraAcross + legendStarts.length * sizes.legendAcross;
    const [width, height] = lr ? [length, breadth] : [breadth, length];
    const scale = target ? Math.min(target.width / width, target.height / height) : 1;
    return { starts, legendStarts, width, height, text: fontSize * scale };
  };
  let best = measure([0]);
  if (!target) return best;
  // Row counts to try: every count up to 16, then about 5% apart (a long chain has thousands of cuts).
  const most = Math.max(cuts.length, Math.min(1, halves.length)) + 1;
  for (let rows = 2; rows <= most; rows = rows < 16 ? rows + 1 : Math.ceil(rows * 1.05)) {
    const starts = balanced(prefix, rows === 2 ? halves : cuts, rows);
    // Fewer rows than asked for: a stretch without cuts sets the length, and more rows cannot shorten it.
    if (!starts || starts.length < rows) {
      if (rows === 2) continue;
      break;
    }
    const plan = measure(starts);
    // Another row must pay for itself: short rows of one or two layers read badly.
    if (plan.text > best.text * 1.03) best = plan;
    // Past the best, more rows only make the drawing taller: stop once clearly worse.
    else if (plan.text < best.text * 0.7) break;
  }
  return best;
}

/**
 * The first depth of each of at most `rows` rows, cut only at `cuts`, whose longest row
 * is as short as can be: a binary search on that length, each step filling rows
 * greedily (a row ends at the last cut that keeps it within the length), which needs
 * the fewest rows for a given length. `prefix[d]` is the length of depths before d.
 * Undefined when no cut at all is allowed.
 */
function balanced(prefix: number[], cuts: number[], rows: number): number[] | undefined {
  const end = prefix.length - 1;
  const fill = (limit: number): number[] | undefined => {
    const starts = [0];
    let last = 0;
    for (let k = 0; k <= cuts.length; k++) {
      const c = k < cuts.length ? cuts[k] : end;
      if (prefix[c] - prefix[starts.at(-1)!] <= limit) {
        last = c;
        continue;
      }
      if (last === starts.at(-1)) return undefined; // a stretch without cuts is longer than the limit
      starts.push(last);
      if (prefix[c] - prefix[last] > limit) return undefined;
      last = c;
    }
    return starts;
  };
  let [lo, hi] = [0, prefix[end]];
  let best = fill(hi);
  for (let k = 0; k < 30 && hi - lo > 0.5; k++) {
    const mid = (lo + hi) / 2;
    const starts = fill(mid);
    if (starts && starts.length <= rows) [hi, best] = [mid, starts];
    else lo = mid;
  }
  return best;
}

/** Where strips of items of these lengths start, each strip at most `length` long (the first item of each). */
function wrap(items: number[], length: number): number[] {
  const starts: number[] = [];
  let used = Infinity;
  items.forEach((item, i) => {
    if (used + item > length) {
      starts.push(i);
      used = 0;
    }
    used += item;
  });
  return starts;
}

/**
 * Depths where a new row may start: the links (but skip connections, with `skipsCross`) that cross from the depths before to
 * the depths from there on all leave one box, just before the cut, and end just after
 * it (one tensor, read by one layer or by the first layers of parallel branches), and
 * no cluster has boxes on both sides.
 */
function cutPoints(boxes: FitBox[], links: FitLink[], depths: number, skipsCross: boolean): number[] {
  // Per depth: the tail of the links crossing into it, or -1 when no single tail fits.
  const crossing = new Array<number | undefined>(depths + 1).fill(undefined);
  for (const [a, b, skip] of links) {
    if (skip && skipsCross) continue;
    const [lo, hi] = [Math.min(boxes[a].depth, boxes[b].depth), Math.max(boxes[a].depth, boxes[b].depth)];
    for (let d = lo + 1; d <= hi; d++) crossing[d] = hi - lo === 1 && (crossing[d] === undefined || crossing[d] === a) ? a : -1;
  }
  const spans = new Map<string, [number, number]>();
  for (const b of boxes)
    b.clusters.forEach((_, i) => {
      const key = b.clusters.slice(0, i + 1).join('/');
      const [lo, hi] = spans.get(key) ?? [b.depth, b.depth];
      spans.set(key, [Math.min(lo, b.depth), Math.max(hi, b.depth)]);
    });
  // Depths inside some cluster (lo < d <= hi), counted with a difference array: a model has as many clusters as repeats and block calls.
  const inside = new Int32Array(depths + 2);
  for (const [lo, hi] of spans.values()) {
    inside[lo + 1]++;
    inside[hi + 1]--;
  }
  const cuts: number[] = [];
  for (let d = 1, open = inside[0]; d < depths; d++) {
    open += inside[d];
    if (crossing[d] !== undefined && crossing[d]! >= 0 && open === 0) cuts.push(d);
  }
  return cuts;
}
