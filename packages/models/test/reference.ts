/**
 * Independent float64 references for the @mmc/models tests: plain loops, no tfjs. Weights use
 * @mmc's storage layout (Linear `[in, out]`, patch embedding `[p·p·C, D]` in (row, col,
 * channel) order), read from the module's variables as Float64Arrays.
 */

/**
 * erf to ~1e-15 relative: Maclaurin series erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)) for
 * |x| < 3, Lentz-free backward continued fraction of erfc for |x| ≥ 3.
 */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
    let f = 0;
    for (let k = 80; k >= 1; k--) f = k / 2 / (ax + f);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  }
  return x < 0 ? -r : r;
}

export function gelu64(x: number): number {
  return 0.5 * x * (1 + erf64(x / Math.SQRT2));
}

/** y[r, :] = LN(x[r, :]) over rows of width D. */
export function layerNorm64(x: Float64Array, D: number, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const rows = x.length / D;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x[r * D + d];
    mean /= D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (x[r * D + d] - mean) ** 2;
    v /= D;
    const inv = 1 / Math.sqrt(v + eps);
    for (let d = 0; d < D; d++) y[r * D + d] = (x[r * D + d] - mean) * inv * w[d] + b[d];
  }
  return y;
}

/** y = x · W + b over rows; W [inD, outD] row-major. */
export function linear64(x: Float64Array, inD: number, W: Float64Array, outD: number, b?: Float64Array): Float64Array {
  const rows = x.length / inD;
  const y = new Float64Array(rows * outD);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outD; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inD; i++) s += x[r * inD + i] * W[i * outD + o];
      y[r * outD + o] = s;
    }
  }
  return y;
}

export interface RefConfig {
  imageSize: number;
  patchSize: number;
  channels: number;
  dim: number;
  depth: number;
  heads: number;
  hidden: number;
  qkvBias: boolean;
  eps: number;
}

export interface RefOutput {
  embed: Float64Array; // [B, T, D]
  layers: Float64Array[]; // depth × [B, T, D]
  cls: Float64Array; // [B, D]
  patches: Float64Array; // [B, N, D]
}

/**
 * Float64 ViT forward: images [B, S, S, C] (NHWC, row-major), mask [B, N] or null, weights by
 * timm name in @mmc layout.
 */
export function vitForward64(cfg: RefConfig, W: Record<string, Float64Array>, images: Float64Array, B: number, mask: Float64Array | null): RefOutput {
  const { imageSize: S, patchSize: p, channels: C, dim: D, heads: H, hidden: F, eps } = cfg;
  const g = S / p;
  const N = g * g;
  const T = N + 1;
  const hd = D / H;
  const P = p * p * C;
  // patch vectors, (row, col, channel) order within a patch
  const x = new Float64Array(B * T * D);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const gy = Math.floor(n / g);
      const gx = n % g;
      const vec = new Float64Array(P);
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          for (let c = 0; c < C; c++) {
            vec[(i * p + j) * C + c] = images[((b * S + gy * p + i) * S + gx * p + j) * C + c];
          }
        }
      }
      const e = linear64(vec, P, W['patch_embed.proj.weight'], D, W['patch_embed.proj.bias']);
      const m = mask ? mask[b * N + n] : 0;
      for (let d = 0; d < D; d++) {
        const v = m === 1 ? W.mask_token[d] : e[d];
        x[(b * T + 1 + n) * D + d] = v + W.pos_embed[(1 + n) * D + d];
      }
    }
    for (let d = 0; d < D; d++) x[b * T * D + d] = W.cls_token[d] + W.pos_embed[d];
  }
  const embed = Float64Array.from(x);
  const layers: Float64Array[] = [];
  let cur = x;
  for (let l = 0; l < cfg.depth; l++) {
    const pre = `blocks.${l}.`;
    const h = layerNorm64(cur, D, W[`${pre}norm1.weight`], W[`${pre}norm1.bias`], eps);
    const qkv = linear64(h, D, W[`${pre}attn.qkv.weight`], 3 * D, cfg.qkvBias ? W[`${pre}attn.qkv.bias`] : undefined);
    const att = new Float64Array(B * T * D);
    for (let b = 0; b < B; b++) {
      for (let hh = 0; hh < H; hh++) {
        for (let i = 0; i < T; i++) {
          const logits = new Float64Array(T);
          let mx = -Infinity;
          for (let j = 0; j < T; j++) {
            let s = 0;
            for (let d = 0; d < hd; d++) {
              const q = qkv[(b * T + i) * 3 * D + 0 * D + hh * hd + d];
              const k = qkv[(b * T + j) * 3 * D + 1 * D + hh * hd + d];
              s += q * k;
            }
            logits[j] = s / Math.sqrt(hd);
            mx = Math.max(mx, logits[j]);
          }
          let z = 0;
          for (let j = 0; j < T; j++) {
            logits[j] = Math.exp(logits[j] - mx);
            z += logits[j];
          }
          for (let d = 0; d < hd; d++) {
            let s = 0;
            for (let j = 0; j < T; j++) s += (logits[j] / z) * qkv[(b * T + j) * 3 * D + 2 * D + hh * hd + d];
            att[(b * T + i) * D + hh * hd + d] = s;
          }
        }
      }
    }
    const a = linear64(att, D, W[`${pre}attn.proj.weight`], D, W[`${pre}attn.proj.bias`]);
    const x1 = cur.map((v, i) => v + a[i]);
    const h2 = layerNorm64(x1, D, W[`${pre}norm2.weight`], W[`${pre}norm2.bias`], eps);
    const f1 = linear64(h2, D, W[`${pre}mlp.fc1.weight`], F, W[`${pre}mlp.fc1.bias`]).map(gelu64);
    const f2 = linear64(f1, F, W[`${pre}mlp.fc2.weight`], D, W[`${pre}mlp.fc2.bias`]);
    cur = x1.map((v, i) => v + f2[i]);
    layers.push(cur);
  }
  const out = layerNorm64(cur, D, W['norm.weight'], W['norm.bias'], eps);
  const cls = new Float64Array(B * D);
  const patches = new Float64Array(B * N * D);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) cls[b * D + d] = out[b * T * D + d];
    for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) patches[(b * N + n) * D + d] = out[(b * T + 1 + n) * D + d];
  }
  return { embed, layers, cls, patches };
}
