/**
 * Where each output cell of upsampling reads, along one spatial axis: the
 * interpreter's kernels (kernels/resize.ts) and generated TensorFlow.js
 * modules (support.ts's upsampleAxis, which builds these when the module
 * runs, so that the module's size does not grow with the factor) share it.
 *
 *   nearestTaps(n, size)  -> src[i] = floor(i / size)
 *   bilinearTaps(n, size) -> TensorFlow 2's resize_bilinear with half_pixel_centers
 *     (what tf.image.resize and so Keras's UpSampling2D(interpolation='bilinear')
 *     call; not TF1's align_corners=False default, which tfjs-layers still uses):
 *     output cell i samples the input at t = (i + 0.5) / size - 0.5 and blends
 *     cells lo = max(floor(t), 0) and hi = min(ceil(t), n - 1), giving hi the
 *     weight t - floor(t). Near the edges lo = hi, so the edge cell is copied.
 *
 * For i in [0, n * size); weights in float64.
 */

export function nearestTaps(n: number, size: number): Int32Array {
  const src = new Int32Array(n * size);
  for (let i = 0; i < src.length; i++) src[i] = Math.floor(i / size);
  return src;
}

export function bilinearTaps(n: number, size: number): { lo: Int32Array; hi: Int32Array; w: Float64Array } {
  const m = n * size;
  const lo = new Int32Array(m), hi = new Int32Array(m), w = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const t = (i + 0.5) / size - 0.5;
    const f = Math.floor(t);
    lo[i] = Math.max(f, 0);
    hi[i] = Math.min(Math.ceil(t), n - 1);
    w[i] = t - f;
  }
  return { lo, hi, w };
}
