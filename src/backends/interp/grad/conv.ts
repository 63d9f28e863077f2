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
 * im2col) and col2im runs there too; a 3x3 kernel at stride 1 gets dx as a
 * convolution of dz with the kernel turned around, in Winograd's form
 * (wasm/index.ts convInputGradWasm), and over enough tiles dW in that form
 * too (convKernelGradWasm).
 *
 * Groups: each group's backward on copies of its channels, kernel columns and
 * dz columns, as the forward runs it (kernels/conv.ts), scattered back; one
 * channel per group is depthwise_conv2d's backward (grad/depthwise.ts).
 */
import { chunkPositions, col2im, convShape, copyChannels, groupShape, im2col, isPointwise } from '../kernels/conv.js';
import { matmulInto } from '../kernels/matmul.js';
import type { Padding } from '../kernels/window.js';
import type { Tensor } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { col2imWasm, convInputGradWasm, convKernelGradWasm, heap } from '../wasm/index.js';
import type { LayerGrads, Want } from './dense.js';
import { depthwiseConv2dBackward } from './depthwise.js';
import { buffer, columnSums, zeros } from './util.js';

export interface ConvGeometry {
  stride: [number, number];
  dilation: [number, number];
  padding: Padding;
  groups?: number;
}

/** Each group's backward on its own channels (see the forward's convolveGroups). */
function groupsBackward(x: Tensor, kernel: Tensor, dz: Tensor, geo: ConvGeometry, want: Want): LayerGrads {
  const G = geo.groups!;
  const { B, H, W, C, kh, kw, Cg, F, Fg } = groupShape(x, kernel, G, 'conv2d');
  const one = { ...geo, groups: 1 };
  if (Cg === 1) {
    const g = depthwiseConv2dBackward(x, { shape: [kh, kw, C, Fg], data: kernel.data }, dz, one, want);
    return { ...g, dKernel: g.dKernel && { shape: [...kernel.shape], data: g.dKernel.data } };
  }
  const positions = dz.data.length / F;
  const xg = { shape: [B, H, W, Cg], data: buffer(B * H * W * Cg) };
  const kg = { shape: [kh, kw, Cg, Fg], data: buffer(kh * kw * Cg * Fg) };
  const dzg = { shape: [...dz.shape.slice(0, -1), Fg], data: buffer(positions * Fg) };
  const dX = want.input ? zeros(x.data.length) : null;
  const dK = want.kernel ? zeros(kernel.data.length) : null;
  const dB = want.bias ? zeros(F) : null;
  for (let g = 0; g < G; g++) {
    copyChannels(xg.data, Cg, 0, x.data, C, g * Cg, Cg, B * H * W);
    copyChannels(kg.data, Fg, 0, kernel.data, F, g * Fg, Fg, kh * kw * Cg);
    copyChannels(dzg.data, Fg, 0, dz.data, F, g * Fg, Fg, positions);
    const r = conv2dBackward(xg, kg, dzg, one, want);
    if (dX && r.dx) copyChannels(dX, C, g * Cg, r.dx.data, Cg, 0, Cg, B * H * W);
    if (dK && r.dKernel) copyChannels(dK, F, g * Fg, r.dKernel.data, Fg, 0, Fg, kh * kw * Cg);
    if (dB && r.dBias) dB.set(r.dBias.data, g * Fg);
  }
  return {
    dx: dX && { shape: [...x.shape], data: dX },
    dKernel: dK && { shape: [...kernel.shape], data: dK },
    dBias: dB && { shape: [F], data: dB },
  };
}

export function conv2dBackward(x: Tensor, kernel: Tensor, dz: Tensor, geo: ConvGeometry, want: Want): LayerGrads {
  if ((geo.groups ?? 1) > 1) return groupsBackward(x, kernel, dz, geo, want);
  const s = convShape(x, kernel, geo, 'conv2d');
  const { C, F } = s;
  const positions = s.B * s.OH * s.OW;
  const depth = s.kh * s.kw * C;
  const dBias = want.bias ? { shape: [F], data: columnSums(dz.data, positions, F) } : null;
  // Written in full by the products below (the first chunk's product overwrites dK); only col2im adds into dX.
  const dK = want.kernel ? buffer(depth * F) : null;
  const dX = want.input ? buffer(x.data.length) : null;

  if (isPointwise(s)) {
    if (dK) matmulInto(dK, x.data, dz.data, C, positions, F, { transA: true });
    if (dX) matmulInto(dX, dz.data, kernel.data, positions, F, C, { transB: true });
  } else {
    // dW without im2col: the WebAssembly kernel packs im2col(x)^T from x as it multiplies.
    const dKDone = dK !== null && convKernelGradWasm(dK, x.data, s, dz.data);
    // dx of a 3x3 kernel at stride 1 as a convolution of dz, in Winograd's form.
    const dXDone = dX !== null && convInputGradWasm(dX, dz.data, s, kernel.data);
    if (dX && !dXDone) dX.fill(0);
    if (dK && !dKDone && positions === 0) dK.fill(0); // no chunk below writes it
    const chunk = Math.min(chunkPositions(s), positions);
    withScratch(heap(), (take) => {
      const cols = dK && !dKDone ? take(chunk * depth) : null;
      const dcols = dX && !dXDone ? take(chunk * depth) : null;
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
  geo: { stride: number; dilation: number; padding: Padding; groups?: number },
  want: Want,
): LayerGrads {
  const [B, L, C] = x.shape;
  const g = conv2dBackward(
    { shape: [B, 1, L, C], data: x.data },
    { shape: [1, ...kernel.shape], data: kernel.data },
    { shape: [B, 1, ...dz.shape.slice(1)], data: dz.data },
    { stride: [1, geo.stride], dilation: [1, geo.dilation], padding: geo.padding, groups: geo.groups },
    want,
  );
  return {
    dx: g.dx && { shape: [...x.shape], data: g.dx.data },
    dKernel: g.dKernel && { shape: [...kernel.shape], data: g.dKernel.data },
    dBias: g.dBias,
  };
}
