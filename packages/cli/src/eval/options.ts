import { Option, type Command } from 'commander';
import { intArg } from '../options.js';

/** Options every `mmc eval` subcommand has. */
export interface CommonOptions {
  backend: 'auto' | 'cpu' | 'wasm' | 'tensorflow';
  threads?: number;
  key?: string;
  labelsKey?: string;
  json?: boolean;
  report?: string;
  quiet?: boolean;
}

/** Adds the options every `mmc eval` subcommand shares. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'tfjs backend (auto: tfjs-node if installed, else wasm, else cpu)')
        .choices(['auto', 'cpu', 'wasm', 'tensorflow'])
        .default('auto'),
    )
    .option('--threads <n>', "threads of the wasm backend's matrix kernels, 1-8 (default 1: k-NN gains from more, the per-image evaluators lose)", intArg(1))
    .option('--key <name>', 'tensor to read from .safetensors feature files (or write file.safetensors:name)')
    .option('--labels-key <name>', 'tensor to read from .safetensors label files (or write file.safetensors:name)')
    .option('--json', 'print one JSON object on stdout instead of tables')
    .option('--report <file>', 'also write a self-contained HTML report to <file>')
    .option('--quiet', 'print nothing on stderr but errors');
}

export { intArg, floatArg, floatListArg } from '../options.js';
