/**
 * `@mmc/losses`: self-supervised objectives on TensorFlow.js: MMC's combined loss, masked-image
 * reconstruction (SiT L1, MAE MSE), contrastive losses (infoNCE, cross-view infoNCE, patch
 * momentum contrast), self-distillation losses (DINO, iBOT, MSN with Sinkhorn-Knopp) and the
 * teacher EMA update.
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
export { dinoLoss, type DinoLossOptions, type DinoLossResult } from './dinoLoss.js';
export { ibotPatchLoss, type IbotPatchLossOptions, type IbotPatchLossResult } from './ibotPatchLoss.js';
export { ibotLoss, type IbotLossParts, type IbotLossOptions, type IbotLossResult } from './ibotLoss.js';
export { msnLoss, type MsnLossOptions, type MsnLossResult } from './msnLoss.js';
export { sinkhorn, type SinkhornOptions } from './sinkhorn.js';
