/** Small helpers shared by the backward kernels. */

/** The sum of each of the n columns of a row-major [rows, n] block (a bias gradient), in float64. */
export function columnSums(data: Float32Array, rows: number, n: number): Float32Array {
  const acc = new Float64Array(n);
  for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < n; j++, o++) acc[j] += data[o];
  return Float32Array.from(acc);
}

/** dst += src, elementwise. */
export function addInto(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}
