export { MmcError, ShapeError, ValueError, BackendError, FormatError } from './errors.js';
export {
  assertRank,
  assertShape,
  assertFinite,
  assertPositive,
  assertInteger,
  assertInRange,
  assertOneOf,
  formatShape,
  describe,
} from './assert.js';
export { createRng, type Rng } from './rng.js';
export { cosineSchedule, linearSchedule, type CosineScheduleOptions, type LinearScheduleOptions } from './schedules.js';
export { useBackend, isNode, isBackendInitialised, wasmThreadCount, type BackendName, type UseBackendOptions } from './backend.js';
export { l2Normalize, cosineSimilarity, transposeLast2 } from './similarity.js';
export { patchify, unpatchify } from './patchify.js';
export { FUSED_KERNELS, hasBackendKernel } from './fusedKernels.js';
export { transposedMatMul } from './transposedMatMul.js';
export { sortTopKSlots } from './sortTopKSlots.js';
export { ndarray, type NdArray, type NdArrayOf, type DType, type DTypeArrays } from './io/ndarray.js';
export { readNpy, writeNpy, type ReadNpyOptions } from './io/npy.js';
export {
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  type ReadSafetensorsOptions,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './io/safetensors.js';
export type { Int64Mode } from './io/int64.js';
export { toTensor, fromTensor } from './io/tensor.js';
