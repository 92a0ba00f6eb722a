import { Option, type Command } from 'commander';

/** Options every `mmc eval` subcommand has. */
export interface CommonOptions {
  backend: 'auto' | 'cpu' | 'wasm' | 'tensorflow';
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
    .option('--key <name>', 'tensor to read from .safetensors feature files (or write file.safetensors:name)')
    .option('--labels-key <name>', 'tensor to read from .safetensors label files (or write file.safetensors:name)')
    .option('--json', 'print one JSON object on stdout instead of tables')
    .option('--report <file>', 'also write a self-contained HTML report to <file>')
    .option('--quiet', 'print nothing on stderr but errors');
}

export { intArg, floatArg, floatListArg } from '../options.js';
