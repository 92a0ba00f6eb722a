import type { SceneDataset } from '@mmc/data';

/**
 * Independent invariant checks of a SceneDataset, recomputed from the masks with plain loops.
 * Returns the first violation found, or null. (One expect() per pixel would be slow.)
 */
export function sceneViolation(ds: SceneDataset, opts: { minArea: number; keepFraction: number; range: [number, number] }): string | null {
  const S = ds.imageSize;
  const P = S * S;
  if (ds.images.length !== ds.count * P * 3) return `images length ${ds.images.length}`;
  if (ds.classMasks.length !== ds.count * P || ds.instanceMasks.length !== ds.count * P) return 'mask length';
  if (ds.objects.length !== ds.count) return 'objects length';
  if (ds.classNames.length !== ds.numClasses + 1 || ds.classNames[0] !== 'background') return 'classNames';
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i];
    if (!(v >= 0 && v <= 1)) return `image value ${v} at ${i} outside [0, 1]`;
  }
  for (let n = 0; n < ds.count; n++) {
    const objs = ds.objects[n];
    const k = objs.length;
    if (k < opts.range[0] || k > opts.range[1]) return `image ${n}: ${k} objects outside [${opts.range}]`;
    const area = new Array(k + 1).fill(0);
    const box = Array.from({ length: k + 1 }, () => ({ r0: S, r1: -1, c0: S, c1: -1 }));
    for (let p = 0; p < P; p++) {
      const id = ds.instanceMasks[n * P + p];
      const cls = ds.classMasks[n * P + p];
      if (id > k) return `image ${n}: instance id ${id} > object count ${k}`;
      if (id === 0) {
        if (cls !== 0) return `image ${n}, pixel ${p}: class ${cls} on background instance`;
        continue;
      }
      const o = objs[id - 1];
      if (cls !== o.classId) return `image ${n}, pixel ${p}: class mask ${cls} but instance ${id} has class ${o.classId}`;
      area[id]++;
      const r = Math.floor(p / S);
      const c = p % S;
      const b = box[id];
      b.r0 = Math.min(b.r0, r);
      b.r1 = Math.max(b.r1, r);
      b.c0 = Math.min(b.c0, c);
      b.c1 = Math.max(b.c1, c);
    }
    for (let j = 0; j < k; j++) {
      const o = objs[j];
      const id = j + 1;
      if (o.instance !== id) return `image ${n}: object ${j} has instance ${o.instance}`;
      if (!(o.classId >= 1 && o.classId <= ds.numClasses)) return `image ${n}: classId ${o.classId}`;
      if (o.area !== area[id]) return `image ${n}, instance ${id}: area ${o.area} but mask has ${area[id]}`;
      if (o.area < opts.minArea) return `image ${n}, instance ${id}: area ${o.area} < ${opts.minArea}`;
      if (o.area < opts.keepFraction * o.fullArea - 1e-9) return `image ${n}, instance ${id}: visible ${o.area} of ${o.fullArea}`;
      if (o.area > o.fullArea) return `image ${n}, instance ${id}: area > fullArea`;
      const b = box[id];
      const want = { top: b.r0, left: b.c0, height: b.r1 - b.r0 + 1, width: b.c1 - b.c0 + 1 };
      if (JSON.stringify(o.bbox) !== JSON.stringify(want)) return `image ${n}, instance ${id}: bbox ${JSON.stringify(o.bbox)} != ${JSON.stringify(want)}`;
      const cp = n * P + o.centerRow * S + o.centerCol;
      if (ds.instanceMasks[cp] !== id || ds.classMasks[cp] !== o.classId) return `image ${n}, instance ${id}: centre not on the object`;
    }
  }
  return null;
}

/** Squared distance from colour `p` to the segment a–b (all RGB). */
export function segmentDistance2(p: number[], a: number[], b: number[]): number {
  let dd = 0;
  let dp = 0;
  for (let c = 0; c < 3; c++) {
    dd += (b[c] - a[c]) ** 2;
    dp += (p[c] - a[c]) * (b[c] - a[c]);
  }
  const t = dd === 0 ? 0 : Math.min(1, Math.max(0, dp / dd));
  let d2 = 0;
  for (let c = 0; c < 3; c++) d2 += (p[c] - (a[c] + t * (b[c] - a[c]))) ** 2;
  return d2;
}

/**
 * For a dataset made with background 'flat' and noise 0: every background pixel has the one
 * background colour of its image, and every object pixel lies on the segment between its
 * instance's two colours. Returns the first violation or null.
 */
export function paintViolation(ds: SceneDataset, tol = 1e-6): string | null {
  const S = ds.imageSize;
  const P = S * S;
  for (let n = 0; n < ds.count; n++) {
    let bg: number[] | null = null;
    for (let p = 0; p < P; p++) {
      const px = [0, 1, 2].map((c) => ds.images[(n * P + p) * 3 + c]);
      const id = ds.instanceMasks[n * P + p];
      if (id === 0) {
        if (bg === null) bg = px;
        else if (px.some((v, c) => v !== bg![c])) return `image ${n}, pixel ${p}: background ${px} != ${bg}`;
        continue;
      }
      const [a, b] = ds.objects[n][id - 1].colors;
      const d2 = segmentDistance2(px, a, b);
      if (d2 > tol * tol) return `image ${n}, pixel ${p}: colour ${px} is ${Math.sqrt(d2)} away from instance ${id}'s colours`;
    }
  }
  return null;
}
