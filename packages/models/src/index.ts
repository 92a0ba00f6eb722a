/**
 * `@mmc/models`: Vision Transformer parts for self-supervised learning on TensorFlow.js: a ViT
 * backbone with timm numerics and variable names (presets Tiny/Small/Base), DINO-style MLP
 * heads, a linear pixel decoder, and the EMA teacher. Weights are stored in tfjs' fast layout;
 * `toTimmLayout` / `fromTimmLayout` convert single weights to and from timm's.
 */
export { createViT, vitVariableShapes, type ViT, type ViTApplyOptions, type ViTOutput } from './vit.js';
export { resolveViTConfig, type ViTConfig, type ResolvedViTConfig } from './config.js';
export { vitTiny, vitSmall, vitBase } from './presets.js';
export { mlpHead, type MlpHead, type MlpHeadOptions } from './mlpHead.js';
export { pixelDecoder, type PixelDecoder, type PixelDecoderOptions, type PixelDecoderApplyOptions } from './pixelDecoder.js';
export { createTeacher, type Teacher, type ModuleRecord } from './teacher.js';
export type { Module, CloneOptions } from './module.js';
export { toTimmLayout, fromTimmLayout, type PatchGeometry } from './timmLayout.js';
export { registerFastMatMulGradient } from './fastMatMulGradient.js';
export { registerFastReduceGradient } from './fastReduceGradient.js';
export { gelu } from './gelu.js';
export { loadWeights, type LoadWeightsOptions } from './loadWeights.js';
export { saveWeights, type SaveWeightsOptions, type SaveWeightsFormat } from './saveWeights.js';
export { CHECKPOINT_FORMATS, WEIGHTS_FORMATS, type WeightsFormat } from './checkpointFormats.js';
export { resamplePosEmbed } from './resamplePosEmbed.js';
