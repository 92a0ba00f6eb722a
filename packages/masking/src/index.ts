export { gmmlMask, type GmmlMaskOptions, type GmmlMaskResult, type GmmlBlock } from './gmmlMask.js';
export { gmmlCorrupt, type GmmlCorruptOptions, type GmmlCorruptResult, type GmmlFill } from './gmmlCorrupt.js';
export { randomTokenMask } from './randomTokenMask.js';
export {
  randomTokenMaskIndices,
  type RandomTokenMaskOptions,
  type RandomTokenMaskIndices,
} from './randomTokenMaskIndices.js';
export { blockwiseMask, type BlockwiseMaskOptions } from './blockwiseMask.js';
export { randomResizedCrop, sampleCropBox, type RandomResizedCropOptions, type CropBox } from './randomResizedCrop.js';
export { horizontalFlip } from './horizontalFlip.js';
