/**
 * Backward of conv1d and conv2d (kernels/conv.ts), given dz = d loss / d(conv
 * + bias) [B,OH,OW,F], the gradient before the activation.
 *
 * The forward is one matmul on the im2col matrix: z [P, F] = cols [P, D] W [D, F]
 * with P = B*OH*OW output positions and D = kh*kw*C. So, chunk by chunk of
 * positions, exactly as the forward builds cols:
 *
 *   dW    = cols^T dz               (im2col again, then one matmul)
 *   dcols = dz W^T;  dx = col2im(dcols)   (col2im is im2col's adjoint: it
 *                                   adds each entry back to the input cell it was read from;
 *                                   padded cells read as zero and receive nothing)
 *   db    = sum over positions of dz
 *
 * A 1x1 kernel at unit stride has cols = x, as in the forward. im2col and
 * col2im are the forward's (kernels/conv.ts), with scratch on the kernel's
 * heap. With the WebAssembly kernels, dW packs cols^T straight from x (no
 * im2col) and col2im runs there too.
 */
import { chunkPositions, col2im, convShape, im2col, isPointwise } from '../kernels/conv.js';
import { matmulInto } from '../kernels/matmul.js';
import type { Padding } from '../kernels/window.js';
import type { Tensor } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { col2imWasm, convKernelGradWasm, heap } from '../wasm/index.js';
import type { LayerGrads, Want } from './dense.js';
import { columnSums, zeros } from './util.js';

export interface ConvGeometry {
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
}

export function conv2dBackward(x: Tensor, kernel: Tensor, dz: Tensor, geo: ConvGeometry, want: Want): LayerGrads {
  const s = convShape(x, kernel, geo, 'conv2d');
  const { C, F } = s;
  const positions = s.B * s.OH * s.OW;
  const depth = s.kh * s.kw * C;
  const dBias = want.bias ? { shape: [F], data: columnSums(dz.data, positions, F) } : null;
  const dK = want.kernel ? zeros(depth * F) : null;
  const dX = want.input ? zeros(x.data.length) : null;

  if (isPointwise(s)) {
    if (dK) matmulInto(dK, x.data, dz.data, C, positions, F, { transA: true });
    if (dX) matmulInto(dX, dz.data, kernel.data, positions, F, C, { transB: true });
  } else {
    // dW without im2col: the WebAssembly kernel packs im2col(x)^T from x as it multiplies.
    const dKDone = dK !== null && convKernelGradWasm(dK, x.data, s, dz.data);
    const chunk = Math.min(chunkPositions(s), positions);
    withScratch(heap(), (take) => {
      const cols = dK && !dKDone ? take(chunk * depth) : null;
      const dcols = dX ? take(chunk * depth) : null;
      for (let p0 = 0; p0 < positions; p0 += chunk) {
        const p1 = Math.min(positions, p0 + chunk);
        const n = p1 - p0;
        const dzChunk = dz.data.subarray(p0 * F, p1 * F);
        if (dK && cols) {
          im2col(cols, x.data, s, p0, p1);
          matmulInto(dK, cols, dzChunk, depth, n, F, { transA: true, accumulate: p0 > 0 });
        }
        if (dX && dcols) {
          matmulInto(dcols, dzChunk, kernel.data, n, F, depth, { transB: true });
          if (!col2imWasm(dX, dcols, s, p0, p1)) col2im(dX, dcols, s, p0, p1);
        }
      }
    });
  }
  return {
    dx: dX && { shape: [...x.shape], data: dX },
    dKernel: dK && { shape: [...kernel.shape], data: dK },
    dBias,
  };
}

/** conv1d is conv2d with height 1, as in the forward. */
export function conv1dBackward(
  x: Tensor,
  kernel: Tensor,
  dz: Tensor,
  geo: { stride: number; dilation: number; padding: Padding },
  want: Want,
): LayerGrads {
  const [B, L, C] = x.shape;
  const g = conv2dBackward(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [1, ...kernel.shape], data: kernel.data },
    { shape: [B, 1, ...dz.shape.slice(1)], data: dz.data },
    { stride: [1, geo.stride], dilation: [1, geo.dilation], padding: geo.padding },
    want,
  );
  return {
    dx: g.dx && { shape: [...x.shape], data: g.dx.data },
    dKernel: g.dKernel && { shape: [...kernel.shape], data: g.dKernel.data },
    dBias: g.dBias,
  };
}
