import type { Rng } from '@mmc/core';

/**
 * Shape families of the procedural scenes. Each is a point-in-shape test in object-local unit
 * coordinates (the object's radius is 1, its rotation and aspect ratio already removed), with a
 * few per-instance parameters drawn by `sampleShapeParams`, so instances of a family vary while
 * the family stays recognisable. Every shape fits in the disc of radius 1.25.
 */
export const SHAPE_NAMES = ['disc', 'square', 'triangle', 'ring', 'cross', 'star', 'hexagon', 'crescent'] as const;

/** A shape family name. */
export type ShapeName = (typeof SHAPE_NAMES)[number];

/** Radius (in object units) of a disc that contains every shape. */
export const SHAPE_BOUND = 1.25;

const SQRT3 = Math.sqrt(3);
const STAR_SECTOR = (2 * Math.PI) / 5;

/**
 * Per-instance parameters of shape `kind` (index into `SHAPE_NAMES`), as 4 numbers:
 * square half-side 0.78–0.86; triangle inradius 0.5–0.58; ring inner radius 0.45–0.6; cross
 * half-width 0.26–0.36; star inner radius 0.38–0.5; crescent bite offset 0.35–0.55 and radius
 * 0.75–0.85. Always draws 2 values, whatever the kind.
 */
export function sampleShapeParams(kind: number, rng: Rng): Float64Array {
  const u = rng.next();
  const v = rng.next();
  const p = new Float64Array(4);
  switch (kind) {
    case 1:
      p[0] = 0.78 + 0.08 * u;
      break;
    case 2:
      p[0] = 0.5 + 0.08 * u;
      break;
    case 3:
      p[0] = 0.45 + 0.15 * u;
      break;
    case 4:
      p[0] = 0.26 + 0.1 * u;
      break;
    case 5: {
      const inner = 0.38 + 0.12 * u;
      // Edge of the star from the outer vertex (1, 0) to the inner vertex at angle π/5.
      const ix = inner * Math.cos(STAR_SECTOR / 2);
      const iy = inner * Math.sin(STAR_SECTOR / 2);
      p[0] = ix - 1; // edge direction
      p[1] = iy;
      break;
    }
    case 7:
      p[0] = 0.35 + 0.2 * u;
      p[1] = 0.75 + 0.1 * v;
      break;
    default:
      break;
  }
  return p;
}

/** Whether the object-local point `(x, y)` lies inside shape `kind` with parameters `p`. */
export function insideShape(kind: number, x: number, y: number, p: Float64Array): boolean {
  switch (kind) {
    case 0: // disc
      return x * x + y * y <= 1;
    case 1: // square
      return Math.abs(x) <= p[0] && Math.abs(y) <= p[0];
    case 2: {
      // equilateral triangle, inradius p[0]: edge normals at −90°, 30°, 150°
      const h = p[0];
      if (-y > h) return false;
      const a = 0.5 * SQRT3 * x;
      const b = 0.5 * y;
      return a + b <= h && -a + b <= h;
    }
    case 3: {
      const r2 = x * x + y * y;
      return r2 <= 1 && r2 >= p[0] * p[0];
    }
    case 4: {
      const ax = Math.abs(x);
      const ay = Math.abs(y);
      return (ax <= p[0] && ay <= 1) || (ay <= p[0] && ax <= 1);
    }
    case 5: {
      const r = Math.sqrt(x * x + y * y);
      if (r > 1) return false;
      let phi = Math.atan2(y, x) % STAR_SECTOR;
      if (phi < 0) phi += STAR_SECTOR;
      phi = Math.abs(phi - STAR_SECTOR / 2);
      // fold into the half-sector between the outer vertex (angle 0) and the inner vertex (π/5)
      const fx = r * Math.cos(STAR_SECTOR / 2 - phi);
      const fy = r * Math.sin(STAR_SECTOR / 2 - phi);
      // inside when the point is on the origin's side of the edge (1,0) → inner vertex
      return p[0] * fy - p[1] * (fx - 1) >= 0;
    }
    case 6: {
      const ax = Math.abs(x);
      const ay = Math.abs(y);
      return ay <= 0.5 * SQRT3 && SQRT3 * ax + ay <= SQRT3;
    }
    case 7: {
      if (x * x + y * y > 1) return false;
      const dx = x - p[0];
      return dx * dx + y * y >= p[1] * p[1];
    }
    default:
      return false;
  }
}
