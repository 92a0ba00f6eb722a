/**
 * @mmc/losses — self-supervised objectives on TensorFlow.js: MMC's combined loss, masked-image
 * reconstruction (SiT L1, MAE MSE), contrastive losses (infoNCE, cross-view infoNCE, patch
 * momentum contrast) and the teacher EMA update.
 */
export { mimL1Loss } from './mimL1Loss.js';
export { maeLoss, type MaeLossOptions } from './maeLoss.js';
export { emaUpdate } from './emaUpdate.js';
export { infoNCE } from './infoNCE.js';
export { crossViewInfoNCE } from './crossViewInfoNCE.js';
export { patchMomentumContrast } from './patchMomentumContrast.js';
export { mmcLoss } from './mmcLoss.js';
