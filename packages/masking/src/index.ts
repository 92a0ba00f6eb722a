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
export { colorJitter, type ColorJitterOptions, type ColorJitterParams, type ColorJitterOp, type ColorJitterRange } from './colorJitter.js';
export { grayscale, type GrayscaleOptions } from './grayscale.js';
export { solarize, type SolarizeOptions } from './solarize.js';
export { gaussianBlur, type GaussianBlurOptions } from './gaussianBlur.js';
export { gaussianKernel1d } from './gaussianKernel1d.js';
export { multiCrop, type MultiCropOptions, type MultiCropResult, type CropGroupOptions } from './multiCrop.js';
