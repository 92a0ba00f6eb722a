import type { Command } from 'commander';
import { registerFewShot } from './fewshot.js';
import { registerKnn } from './knn.js';
import { registerLinear } from './linear.js';
import { registerOverlap } from './overlap.js';
import { registerSegment } from './segment.js';
import { registerVideo } from './video.js';

/**
 * Registers `mmc eval knn|segment|overlap|fewshot|video|linear`: the protocols of @mmc/eval on
 * features and labels read from `.npy` or `.safetensors` files (embeddings from anywhere).
 * Each prints tables, or with `--json` one JSON object on stdout (logs go to stderr), and with
 * `--report out.html` also writes a self-contained HTML report.
 */
export function registerEval(program: Command): void {
  const evalCmd = program
    .command('eval')
    .description("evaluate embeddings (.npy or .safetensors) with the paper's protocols")
    .addHelpText(
      'after',
      '\nArrays: .npy files, or tensors of .safetensors files as file.safetensors:tensorName (or --key/--labels-key).\n' +
        'Labels: any integer dtype (int64 is read as int32). Add --json for one JSON object on stdout, --report out.html for a report.',
    );
  registerKnn(evalCmd);
  registerSegment(evalCmd);
  registerOverlap(evalCmd);
  registerFewShot(evalCmd);
  registerVideo(evalCmd);
  registerLinear(evalCmd);
}
