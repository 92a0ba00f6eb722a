import type { Command } from 'commander';

/** Registers `mmc eval knn|segment|overlap|fewshot|video|linear` (written in this folder). */
export function registerEval(program: Command): void {
  program.command('eval').description('evaluate embeddings (.npy or .safetensors) with the paper\'s protocols');
}
