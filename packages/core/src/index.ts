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
export { useBackend, isNode, type BackendName } from './backend.js';
export { l2Normalize, cosineSimilarity, transposeLast2 } from './similarity.js';
export { patchify, unpatchify } from './patchify.js';
