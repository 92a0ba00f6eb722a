/**
 * @mmc/losses — self-supervised objectives on TensorFlow.js: MMC's combined loss, masked-image
 * reconstruction (SiT L1, MAE MSE), contrastive losses (infoNCE, cross-view infoNCE, patch
 * momentum contrast) and the teacher EMA update.
 */
export { mimL1Loss } from './mimL1Loss.js';
export { maeLoss, type MaeLossOptions } from './maeLoss.js';
export { emaUpdate } from './emaUpdate.js';
export { infoNCE, type InfoNCEOptions } from './infoNCE.js';
export { crossViewInfoNCE, type CrossViewInfoNCEOptions } from './crossViewInfoNCE.js';
export { patchMomentumContrast, type PatchMomentumContrastOptions } from './patchMomentumContrast.js';
export {
  mmcLoss,
  type MmcLossParts,
  type MmcLossOptions,
  type MmcLossResult,
  type MmcLossWeights,
  type MimPart,
  type PatchPart,
  type GlobalPart,
} from './mmcLoss.js';
