/** The last click, as the page computed and drew it. */
export interface ClickRecord {
  /** Clicked pixel of the model-size image. */
  x: number;
  y: number;
  /** Its patch-grid cell. */
  row: number;
  col: number;
  threshold: number;
  /** `[S, S]` row-major 0/1 mask as drawn (after slider moves too). */
  mask: number[];
  /** Similarity computation on the backend with the read-back (`promptSegment`), ms. */
  similarityMs: number;
  /** Painting the overlay, ms. */
  drawMs: number;
  /** similarityMs + drawMs. */
  clickMs: number;
  /** Clicks so far on this page. */
  count: number;
}

/**
 * What the page exposes as `window.mmcPage` for scripts and the e2e test (read-only use).
 * `document.body.dataset.state` is 'loading', 'ready', 'busy' or 'error'.
 */
export interface PageHook {
  backend: string;
  /** Backends tried before it, with the reason each failed. */
  skipped: string[];
  model: string;
  /** The model's input size S (images are S×S). */
  imageSize: number;
  scene: number;
  /** Time of the ViT forward for the current image (with the read-back of its tokens), ms. */
  featuresMs: number;
  last?: ClickRecord;
  error?: string;
}

declare global {
  interface Window {
    mmcPage?: PageHook;
  }
}
