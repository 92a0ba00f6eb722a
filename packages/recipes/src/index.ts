/**
 * `@mmc/recipes`: self-supervised recipes composed from the public `@mmc` parts, and the trainer.
 */
export type { Recipe, LossParts, TrainDataset } from './recipe.js';
export { mmcRecipe, type MmcRecipe, type MmcRecipeOptions, type MmcViews } from './mmcRecipe.js';
export { train, type TrainOptions, type TrainResult, type StepInfo, type TrainState } from './train.js';
export { adamw, type AdamW, type AdamWOptions, type AdamWState } from './adamw.js';
export { clipGradNorm } from './clipGradNorm.js';
export { normalizeImages, SCENES_NORMALIZATION, type Normalization } from './normalize.js';
export { evaluateZeroShot, type EvaluateZeroShotOptions, type ZeroShotResult } from './evaluateZeroShot.js';
export { sitRecipe, type SitRecipe, type SitRecipeOptions, type SitViews } from './sitRecipe.js';
export { dinoRecipe, type DinoRecipe, type DinoRecipeOptions, type DinoViews } from './dinoRecipe.js';
export { ibotRecipe, type IbotRecipe, type IbotRecipeOptions, type IbotViews } from './ibotRecipe.js';
export { maeRecipe, type MaeRecipe, type MaeRecipeOptions, type MaeViews } from './maeRecipe.js';
export { msnRecipe, type MsnRecipe, type MsnRecipeOptions, type MsnViews } from './msnRecipe.js';
export { prefixVariables } from './prefixVariables.js';
export { gmmlViewPair, type GmmlViewPairOptions } from './gmmlViewPair.js';
export { dinoPhotometric } from './dinoPhotometric.js';
