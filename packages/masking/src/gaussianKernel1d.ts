import { assertInteger, assertPositive, ValueError } from '@mmc/core';

/**
 * Normalised 1-D Gaussian kernel: w_i ∝ exp(−(i − r)² / (2σ²)) for i = 0 … size − 1, r = (size − 1)/2,
 * scaled so that Σ w_i = 1 (torchvision's `_get_gaussian_kernel1d`). The default size
 * 2·⌈3σ⌉ + 1 keeps 99.7 % of the mass (⌈3σ⌉ = 6 taps each side at DINO's largest σ = 2).
 * {@link gaussianBlur} applies it along rows and columns (a separable 2-D Gaussian).
 *
 * @param sigma standard deviation in pixels (> 0)
 * @param size odd number of taps ≥ 1 (default 2·⌈3σ⌉ + 1)
 * @returns Float64Array(size), symmetric, summing to 1
 * @example
 * ```ts
 * gaussianKernel1d(1); // 7 taps: [0.0044, 0.054, 0.242, 0.399, 0.242, 0.054, 0.0044]
 * ```
 */
export function gaussianKernel1d(sigma: number, size?: number): Float64Array {
  const fn = 'gaussianKernel1d';
  assertPositive(fn, 'sigma', sigma);
  const k = size ?? 2 * Math.ceil(3 * sigma) + 1;
  assertInteger(fn, 'size', k, 1);
  if (k % 2 !== 1) throw new ValueError(`${fn}: size must be odd, got ${k}`);
  const r = (k - 1) / 2;
  const w = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    w[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    sum += w[i];
  }
  for (let i = 0; i < k; i++) w[i] /= sum;
  return w;
}
