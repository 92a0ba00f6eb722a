/**
 * Python 3's `round(x)` for a ratio of two integers `num / den` (den > 0): the nearest integer,
 * ties to the even one. Integer arithmetic, so a tie is detected exactly. Internal helper shared by
 * the GMML block sizes (`round(rnd_h / align)`) and BEiT's block sides (`round(sqrt(...))` uses
 * {@link roundHalfEvenFloat}).
 */
export function roundHalfEvenRatio(num: number, den: number): number {
  const q = Math.floor(num / den);
  const twiceRem = 2 * (num - q * den);
  if (twiceRem > den) return q + 1;
  if (twiceRem < den) return q;
  return q % 2 === 0 ? q : q + 1;
}

/** Python 3's `round(x)` for a double: nearest integer, exact .5 ties to even. */
export function roundHalfEvenFloat(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact for |x| < 2^52
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
