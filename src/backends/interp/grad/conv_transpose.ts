/**
 * Backward of conv1d_transpose and conv2d_transpose (kernels/conv_transpose.ts),
 * given dz = d loss / d(output + bias) [B,OH,OW,F], the gradient before the
 * activation.
 *
 * The forward is the adjoint of a convolution A (`adjointConv`: input
 * [B,OH,OW,F], kernel K [kh*kw*F, C], output x's shape): y = col2im(x K^T).
 * With cols = im2col_A(dz) [P, kh*kw*F], P = B*H*W input cells:
 *
 *   dx = cols K          A's forward on dz (a conv2d of dy)
 *   dK = cols^T x        A's kernel gradient with x in the place of its dz
 *   db = sum over output cells of dz
 *
 * WebAssembly packs cols straight from dz when loaded (convWasm,
 * convKernelGradWasm); the TypeScript path builds them in chunks with conv's im2col.
 */
import { chunkPositions, im2col } from '../kernels/conv.js';
import { adjointConv, as2d, type ConvTranspose1dGeometry, type ConvTransposeGeometry } from '../kernels/conv_transpose.js';
import { matmulInto } from '../kernels/matmul.js';
import type { Tensor } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { convKernelGradWasm, convWasm, heap } from '../wasm/index.js';
import type { LayerGrads, Want } from './dense.js';
import { columnSums, zeros } from './util.js';

export function conv2dTransposeBackward(x: Tensor, kernel: Tensor, dz: Tensor, g: ConvTransposeGeometry, want: Want): LayerGrads {
  const s = adjointConv(x.shape, kernel.shape, g, 'conv2d_transpose');
  const filters = s.C, channels = s.F;
  const cells = s.B * s.OH * s.OW;
  const depth = s.kh * s.kw * filters;
  const dBias = want.bias ? { shape: [filters], data: columnSums(dz.data, s.B * s.H * s.W, filters) } : null;
  const dK = want.kernel ? zeros(depth * channels) : null;
  const dX = want.input ? zeros(cells * channels) : null;
  const dXDone = dX !== null && convWasm(dX, dz.data, s, kernel.data, {});
  const dKDone = dK !== null && convKernelGradWasm(dK, dz.data, s, x.data);
  if ((dX && !dXDone) || (dK && !dKDone)) {
    const chunk = Math.min(chunkPositions(s), Math.max(cells, 1));
    withScratch(heap(), (take) => {
      const cols = take(chunk * depth);
      for (let p0 = 0; p0 < cells; p0 += chunk) {
        const p1 = Math.min(cells, p0 + chunk);
        im2col(cols, dz.data, s, p0, p1);
        if (dX && !dXDone) matmulInto(dX.subarray(p0 * channels, p1 * channels), cols, kernel.data, p1 - p0, depth, channels);
        if (dK && !dKDone) matmulInto(dK, cols, x.data.subarray(p0 * channels, p1 * channels), depth, p1 - p0, channels, { transA: true, accumulate: p0 > 0 });
      }
    });
  }
  return {
    dx: dX && { shape: [...x.shape], data: dX },
    dKernel: dK && { shape: [...kernel.shape], data: dK },
    dBias,
  };
}

/** conv1d_transpose is conv2d_transpose with height 1, as in the forward. */
export function conv1dTransposeBackward(x: Tensor, kernel: Tensor, dz: Tensor, g: ConvTranspose1dGeometry, want: Want): LayerGrads {
  const [B, L, C] = x.shape;
  const r = conv2dTransposeBackward(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [1, ...kernel.shape], data: kernel.data },
    { shape: [B, 1, ...dz.shape.slice(1)], data: dz.data },
    as2d(g),
    want,
  );
  return {
    dx: r.dx && { shape: [...x.shape], data: r.dx.data },
    dKernel: r.dKernel && { shape: [...kernel.shape], data: r.dKernel.data },
    dBias: r.dBias,
  };
}
