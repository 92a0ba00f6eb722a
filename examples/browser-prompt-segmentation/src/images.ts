/** An image as the page shows it and as the model reads it. */
export interface PageImage {
  /** What is drawn under the overlay. */
  display: HTMLCanvasElement;
  /** Scale the display smoothly (photos) or keep its pixels sharp (scenes). */
  smooth: boolean;
  /** `[S, S, 3]` values in [0, 1], S = the model's imageSize. */
  rgb: Float32Array;
}

/** A canvas holding `[S, S, 3]` values in [0, 1]. */
function rgbCanvas(rgb: Float32Array, S: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = S;
  c.height = S;
  const img = new ImageData(S, S);
  for (let i = 0; i < S * S; i++) {
    for (let k = 0; k < 3; k++) img.data[i * 4 + k] = Math.round(rgb[i * 3 + k] * 255);
    img.data[i * 4 + 3] = 255;
  }
  c.getContext('2d')?.putImageData(img, 0, 0);
  return c;
}

/** A generated scene (`[S, S, 3]` in [0, 1]) as a page image. */
export function sceneImage(rgb: Float32Array, S: number): PageImage {
  return { display: rgbCanvas(rgb, S), smooth: false, rgb };
}

/**
 * A picture file (PNG, JPEG, …): its centred square crop, shown at `displaySize` and resized to
 * `S × S` for the model.
 */
export async function fileImage(file: Blob, S: number, displaySize: number): Promise<PageImage> {
  const bitmap = await createImageBitmap(file);
  const side = Math.min(bitmap.width, bitmap.height);
  const sx = (bitmap.width - side) / 2;
  const sy = (bitmap.height - side) / 2;
  const draw = (size: number) => {
    const c = document.createElement('canvas');
    c.width = size;
    c.height = size;
    const ctx = c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, sx, sy, side, side, 0, 0, size, size);
    return { c, ctx };
  };
  const display = draw(displaySize).c;
  const small = draw(S).ctx.getImageData(0, 0, S, S).data;
  bitmap.close();
  const rgb = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = small[i * 4 + k] / 255;
  return { display, smooth: true, rgb };
}
