import { describe, expect, it } from 'vitest';
import { ValueError } from '@mmc/core';
import { objectCrops, scenes } from '@mmc/data';

/** Naive float64 crop: square box around the bbox centre, bilinear with half-pixel centres, clamped. */
function refCrop(img: Float32Array, S: number, n: number, bbox: { top: number; left: number; height: number; width: number }, size: number, context: number): number[] {
  const side = Math.max(bbox.height, bbox.width) * (1 + 2 * context);
  const cy = bbox.top + bbox.height / 2;
  const cx = bbox.left + bbox.width / 2;
  const at = (r: number, c: number, ch: number) => img[((n * S + r) * S + c) * 3 + ch];
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const y = Math.min(S - 1, Math.max(0, cy - side / 2 + ((i + 0.5) * side) / size - 0.5));
      const x = Math.min(S - 1, Math.max(0, cx - side / 2 + ((j + 0.5) * side) / size - 0.5));
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const y1 = Math.min(y0 + 1, S - 1);
      const x1 = Math.min(x0 + 1, S - 1);
      for (let ch = 0; ch < 3; ch++) {
        const v = (at(y0, x0, ch) * (x1 === x0 ? 1 : 1 - (x - x0)) + (x1 === x0 ? 0 : at(y0, x1, ch) * (x - x0))) * (y1 === y0 ? 1 : 1 - (y - y0)) +
          (y1 === y0 ? 0 : (at(y1, x0, ch) * (x1 === x0 ? 1 : 1 - (x - x0)) + (x1 === x0 ? 0 : at(y1, x1, ch) * (x - x0))) * (y - y0));
        out.push(v);
      }
    }
  }
  return out;
}

describe('objectCrops', () => {
  it('crops every object with labels = classId − 1, matching a naive bilinear reference', () => {
    const ds = scenes({ count: 12, imageSize: 32, seed: 2 });
    for (const [size, context] of [[16, 0.15], [7, 0], [1, 0.5]] as const) {
      const crops = objectCrops(ds, { size, context });
      const all = ds.objects.flatMap((objs, n) => objs.map((o) => ({ o, n })));
      expect(crops.count).toBe(all.length);
      expect(crops.shape).toEqual([all.length, size, size, 3]);
      expect(crops.classNames).toEqual(ds.classNames.slice(1));
      let maxErr = 0;
      all.forEach(({ o, n }, m) => {
        expect(crops.labels[m]).toBe(o.classId - 1);
        expect(crops.imageIndex[m]).toBe(n);
        expect(crops.instance[m]).toBe(o.instance);
        const ref = refCrop(ds.images, 32, n, o.bbox, size, context);
        ref.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - crops.images[m * size * size * 3 + i]))));
      });
      expect(maxErr).toBeLessThan(1e-6);
    }
  });

  it('maskBackground zeroes pixels outside the instance; minArea filters', () => {
    const ds = scenes({ count: 10, imageSize: 32, seed: 3 });
    const plain = objectCrops(ds, { size: 8 });
    const masked = objectCrops(ds, { size: 8, maskBackground: true });
    let zeroed = 0;
    for (let i = 0; i < masked.images.length; i++) {
      if (masked.images[i] === 0 && plain.images[i] !== 0) zeroed++;
      else expect(masked.images[i]).toBe(plain.images[i]);
    }
    expect(zeroed).toBeGreaterThan(0);
    const big = objectCrops(ds, { size: 8, minArea: 100 });
    expect(big.count).toBe(ds.objects.flat().filter((o) => o.area >= 100).length);
    expect(() => objectCrops(ds, { size: 0 })).toThrow(/size/);
    expect(() => objectCrops(ds, { context: -1 })).toThrow(/context/);
    expect(() => objectCrops({} as never)).toThrow(ValueError);
  });
});
