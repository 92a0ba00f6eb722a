import { scenes, type SceneDataset } from '@mmc/data';

/** The scene generator settings of `npm run demo` (1–3 objects, 22–45 % of the image wide). */
export const SCENE_OPTIONS = { objects: [1, 3] as [number, number], sizeRange: [0.22, 0.45] as [number, number] };

/** How many scenes the page offers and their seed (the demo's held-out seed, 10 000). */
export const PAGE_SCENES = { count: 32, seed: 10_000 };

/**
 * The scenes the page shows, for a model input size: the same images, masks and objects in the
 * page and in Node (the e2e test reads the true masks from here).
 */
export function pageScenes(imageSize: number): SceneDataset {
  return scenes({ ...SCENE_OPTIONS, ...PAGE_SCENES, imageSize });
}
