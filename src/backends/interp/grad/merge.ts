/**
 * Backward of the broadcasting merges (kernels/merge.ts). Input k's gradient
 * sums, over the output elements its broadcast value reached, dy times
 *
 *   multiply  the product of the other inputs there
 *   subtract  +1 for the first input, -1 for the second
 *   maximum   1 for the first input that holds the maximum there, else 0
 *   minimum   likewise for the minimum (TensorFlow's tie rule: the earlier input)
 *   average   1 / n
 */
import type { MergeKind } from '../../../ops/merge.js';
import { forEachBroadcast } from '../kernels/merge.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './util.js';

export function mergeBackward(kind: MergeKind, xs: Tensor[], y: Tensor, dy: Tensor, want: boolean[]): (Tensor | null)[] {
  const shapes = xs.map((x) => x.shape);
  const dxs = xs.map((x, k) => (want[k] ? zeros(x.data.length) : null));
  const data = xs.map((x) => x.data);
  const n = xs.length;
  forEachBroadcast(y.shape, shapes, (o, at) => {
    const g = dy.data[o];
    let chosen = -1; // maximum/minimum: the first input holding the result
    if (kind === 'maximum' || kind === 'minimum') for (let k = 0; k < n && chosen < 0; k++) if (data[k][at[k]] === y.data[o]) chosen = k;
    for (let k = 0; k < n; k++) {
      const dx = dxs[k];
      if (!dx) continue;
      let local: number;
      if (kind === 'multiply') {
        local = 1;
        for (let j = 0; j < n; j++) if (j !== k) local *= data[j][at[j]];
      } else if (kind === 'subtract') local = k === 0 ? 1 : -1;
      else if (kind === 'average') local = 1 / n;
      else local = k === chosen ? 1 : 0;
      dx[at[k]] += g * local;
    }
  });
  return dxs.map((dx, k) => dx && { shape: [...xs[k].shape], data: dx });
}
