/**
 * `@mmc/eval`: the paper's evaluation protocols on embeddings from anywhere (tensors, typed arrays,
 * .npy/.safetensors files): prompt segmentation, threshold sweep, mIoU, intra/inter similarity
 * distributions, k-NN, few-shot thresholding, video label propagation with J&F, linear probe, and
 * SVG/PNG/HTML reports. Depends on @mmc/core only.
 */
export type { NdArrayLike, ArrayInput, LabelsInput, NestedNumbers } from './ndarray.js';
export { promptSegment, type Prompt, type PatchPrompt, type PixelPrompt, type PromptSegmentOptions, type PromptSegmentResult } from './promptSegment.js';
export { promptSegmentAsync } from './promptSegmentAsync.js';
export { thresholdSweep, type SweepSample, type ThresholdSweepOptions, type ThresholdSweepResult } from './thresholdSweep.js';
export { patchLabels } from './patchLabels.js';
export { meanIoU, type LabelMap, type MeanIoUOptions, type MeanIoUResult } from './meanIoU.js';
export {
  similarityDistributions,
  type SimilarityDistributionsOptions,
  type SimilarityDistributionsResult,
} from './similarityDistributions.js';
export { knnClassify, type KnnClassifyOptions, type KnnClassifyResult } from './knnClassify.js';
export { knnSearch, type KnnSearchOptions, type KnnSearchResult } from './knnSearch.js';
export { knnVote, type KnnVoteOptions } from './knnVote.js';
export { featureHead, type FeatureHeadMode } from './featureHead.js';
export {
  fewShotThreshold,
  type LabeledFeatures,
  type FewShotThresholdOptions,
  type FewShotMetrics,
  type FewShotThresholdResult,
} from './fewShotThreshold.js';
export { propagateStep, type PropagateStepOptions } from './propagateStep.js';
export { propagateLabels, type PropagateLabelsOptions, type PropagateLabelsResult } from './propagateLabels.js';
export { davisJF, type DavisJFOptions, type DavisJFResult, type DavisObjectScore, type LabelMapInput } from './davisJF.js';
export { linearProbe, type LinearProbeOptions, type LinearProbeResult, type FeatureInput, type LabelInput } from './linearProbe.js';
export { histogramSvg, type HistogramSvgOptions } from './histogramSvg.js';
export { similarityMapPng, similarityMapSvg, type SimilarityMapOptions, type ImageInput } from './similarityMap.js';
export { htmlReport, type HtmlReportOptions, type ReportSection, type ReportTable, type ReportImage } from './htmlReport.js';
export { colormap, COLORMAPS, type ColormapName } from './colormap.js';
export { bytesToBase64, imageDataUrl, sniffImageType } from './dataUrl.js';
export { escapeXml } from './escapeXml.js';
