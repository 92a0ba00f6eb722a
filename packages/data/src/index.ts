export { scenes, SCENE_CLASSES, type ScenesOptions, type SceneClass } from './scenes.js';
export { fashionScenes, type FashionScenesOptions } from './fashionScenes.js';
export {
  fashionMnist,
  fashionMnistFromBytes,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  FASHION_MNIST_APT_PACKAGE,
  type FashionMnist,
  type FashionMnistOptions,
} from './fashionMnist.js';
export { parseIdx, formatMagic, type IdxArray, type IdxDtype } from './idx.js';
export { gunzip, isGzip } from './gunzip.js';
export { objectCrops, type ObjectCrops, type ObjectCropsOptions } from './objectCrops.js';
export { toTensors, type BatchTensors } from './toTensors.js';
export {
  createSceneDataset,
  type SceneDataset,
  type SceneDatasetFields,
  type SceneBatch,
  type SceneObject,
  type PixelBox,
  type ImageBatch,
  type ImageDataset,
} from './sceneDataset.js';
export { DatasetNotFoundError } from './errors.js';
export { PALETTE, type Rgb } from './palette.js';
export { SHAPE_NAMES, type ShapeName } from './shapes.js';
export { TEXTURE_NAMES, type TextureName } from './textures.js';
export type { BackgroundMode } from './background.js';
