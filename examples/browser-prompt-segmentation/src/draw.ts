import { colormap } from '@mmc/eval';

/** What {@link drawOverlay} paints. */
export interface Overlay {
  /** The image as shown (any size; scaled to the canvas). */
  image: CanvasImageSource;
  /** Smooth the image when scaling (photos) or keep pixels sharp (the 64×64 scenes). */
  smooth: boolean;
  /** `[S, S]` similarity in [-1, 1] and its `[S, S]` 0/1 mask, or none before the first click. */
  map?: { similarity: Float32Array; mask: Uint8Array; size: number; prompt: { x: number; y: number } };
  /** Opacity of the heat map (0 hides it). */
  mapAlpha: number;
}

const MASK_RGB = [255, 40, 40] as const;

/**
 * Paints the image, the similarity map (viridis, −1 … 1) with opacity `mapAlpha`, the mask
 * (red tint and outline) and a marker at the prompt onto a square canvas.
 */
export function drawOverlay(canvas: HTMLCanvasElement, o: Overlay): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const D = canvas.width;
  ctx.imageSmoothingEnabled = o.smooth;
  ctx.clearRect(0, 0, D, D);
  ctx.drawImage(o.image, 0, 0, D, D);
  if (!o.map) return;
  const { similarity, mask, size: S, prompt } = o.map;
  const under = ctx.getImageData(0, 0, D, D);
  const px = under.data;
  const at = (y: number, x: number) => (y < 0 || x < 0 || y >= S || x >= S ? 0 : mask[y * S + x]);
  for (let Y = 0; Y < D; Y++) {
    const y = Math.floor((Y * S) / D);
    for (let X = 0; X < D; X++) {
      const x = Math.floor((X * S) / D);
      const i = (Y * D + X) * 4;
      const heat = colormap((similarity[y * S + x] + 1) / 2, 'viridis');
      for (let c = 0; c < 3; c++) px[i + c] = (1 - o.mapAlpha) * px[i + c] + o.mapAlpha * heat[c];
      if (at(y, x)) {
        const edge = !at(y - 1, x) || !at(y + 1, x) || !at(y, x - 1) || !at(y, x + 1);
        for (let c = 0; c < 3; c++) px[i + c] = edge ? MASK_RGB[c] : 0.6 * px[i + c] + 0.4 * MASK_RGB[c];
      }
    }
  }
  ctx.putImageData(under, 0, 0);
  const cx = ((prompt.x + 0.5) * D) / S;
  const cy = ((prompt.y + 0.5) * D) / S;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(cx, cy, 6, 0, 2 * Math.PI);
  ctx.stroke();
}
