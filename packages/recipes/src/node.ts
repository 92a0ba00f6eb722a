/** `@mmc/recipes/node`: training checkpoints on disk (Node only). */
export { saveCheckpoint, restoreCheckpoint, CHECKPOINT_FILE } from './checkpoint.js';
