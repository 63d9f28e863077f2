/**
 * Backward of depthwise_conv2d and separable_conv2d (kernels/depthwise.ts),
 * given dz = d loss / d(conv + bias), the gradient before the activation.
 *
 * The forward sums z[p, c*dm+m] = sum over taps t of x[cell(p, t), c] * K[t, c, m],
 * so, over the same taps of every output pixel p:
 *
 *   dK[t, c, m]       = sum_p x[cell(p, t), c] * dz[p, c*dm+m]   (float64 sums: p runs over the whole batch)
 *   dx[cell(p, t), c] += sum_m K[t, c, m] * dz[p, c*dm+m]        (padded cells take nothing)
 *   db                = sum_p dz[p, :]
 *
 * With depth multiplier 1 these run in WebAssembly (gemm.wat's
 * depthwise_conv_grad, dK summed in float32 over 128 pixels at a time, then
 * in float64); depthwiseGradInto is its TS twin and runs any dm.
 *
 * separable_conv2d recomputes the depthwise step's output (it is cheap, and
 * the layer keeps no intermediate), takes the 1x1 conv's backward to get its
 * gradient, then the depthwise backward above.
 */
import { depthwiseConv2d, depthwiseShape, taps, type DepthwiseShape } from '../kernels/depthwise.js';
import { depthwiseGradWasm } from '../wasm/index.js';
import type { Conv2dOptions } from '../kernels/conv.js';
import type { Tensor } from '../tensor.js';
import { conv2dBackward } from './conv.js';
import type { LayerGrads, Want } from './dense.js';
import { buffer, columnSums, zeros } from './util.js';

export function depthwiseConv2dBackward(x: Tensor, kernel: Tensor, dz: Tensor, geo: Conv2dOptions, want: Want): LayerGrads {
  const s = depthwiseShape(x, kernel, geo, 'depthwise_conv2d');
  const { B, OH, OW, F } = s;
  const dBias = want.bias ? { shape: [F], data: columnSums(dz.data, B * OH * OW, F) } : null;
  const acc = want.kernel ? new Float64Array(kernel.data.length) : null;
  const dX = want.input ? zeros(x.data.length) : null;
  if ((dX || acc) && !depthwiseGradWasm(dX, acc, x.data, kernel.data, dz.data, s)) depthwiseGradInto(dX, acc, x.data, kernel.data, dz.data, s);
  let dKernel: Tensor | null = null;
  if (acc) {
    const data = buffer(acc.length);
    for (let i = 0; i < acc.length; i++) data[i] = acc[i];
    dKernel = { shape: [...kernel.shape], data };
  }
  return { dx: dX && { shape: [...x.shape], data: dX }, dKernel, dBias };
}

export interface SeparableGrads {
  dx: Tensor | null;
  dDepthwise: Tensor | null;
  dPointwise: Tensor | null;
  dBias: Tensor | null;
}

/** The 1x1 conv's backward on the recomputed depthwise output, then the depthwise backward. */
export function separableConv2dBackward(
  x: Tensor, depthwise: Tensor, pointwise: Tensor, dz: Tensor, geo: Conv2dOptions, want: Want & { pointwise: boolean },
): SeparableGrads {
  const s = depthwiseShape(x, depthwise, geo, 'separable_conv2d');
  const mid = depthwiseConv2d(x, depthwise, null, { ...geo, activation: 'linear' }, buffer(s.B * s.OH * s.OW * s.F));
  const needMid = want.input || want.kernel;
  const p = conv2dBackward(mid, pointwise, dz, { stride: [1, 1], dilation: [1, 1], padding: 'valid' }, { input: needMid, kernel: want.pointwise, bias: want.bias });
  const d = p.dx ? depthwiseConv2dBackward(x, depthwise, p.dx, geo, { input: want.input, kernel: want.kernel, bias: false }) : null;
  return { dx: d?.dx ?? null, dDepthwise: d?.dKernel ?? null, dPointwise: p.dKernel, dBias: p.dBias };
}

/** The TS twin of gemm.wat's depthwise_conv_grad, any dm: dx += K dz and dK += x dz over every pixel's taps inside the input. */
function depthwiseGradInto(dX: Float32Array | null, acc: Float64Array | null, xd: Float32Array, k: Float32Array, g: Float32Array, s: DepthwiseShape): void {
  const { B, H, W, C, kw, OH, OW, F, dm } = s;
  const [dh, dw] = s.dilation;
  for (let b = 0, o = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o += F) {
        const t = taps(s, oy, ox);
        for (let ky = t.ky0; ky < t.ky1; ky++) {
          const row = (b * H + t.y0 + ky * dh) * W;
          for (let kx = t.kx0; kx < t.kx1; kx++) {
            const xi = (row + t.x0 + kx * dw) * C;
            const ki = (ky * kw + kx) * F;
            // Separate loops without branches: the JIT keeps them tight (MobileNet's dm = 1 is the common case).
            if (acc && dm === 1) for (let c = 0; c < C; c++) acc[ki + c] += xd[xi + c] * g[o + c];
            else if (acc) for (let c = 0; c < C; c++) for (let m = 0, f = c * dm; m < dm; m++, f++) acc[ki + f] += xd[xi + c] * g[o + f];
            if (dX && dm === 1) for (let c = 0; c < C; c++) dX[xi + c] += k[ki + c] * g[o + c];
            else if (dX) {
              for (let c = 0; c < C; c++) {
                let sum = 0;
                for (let m = 0, f = c * dm; m < dm; m++, f++) sum += k[ki + f] * g[o + f];
                dX[xi + c] += sum;
              }
            }
          }
        }
      }
    }
  }
}
