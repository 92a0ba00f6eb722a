import { Command } from 'commander';
import { registerEval } from './eval/register.js';
import { registerDemo } from './demo.js';
import { registerEmbed } from './embed.js';
import { registerPretrain } from './pretrain.js';
import { registerStudy } from './study.js';

/** Builds the `mmc` program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('mmc')
    .description('Self-supervised ViTs on TensorFlow.js: pretrain, evaluate embeddings from anywhere, report')
    .version('0.1.0')
    .showHelpAfterError();
  registerPretrain(program);
  registerDemo(program);
  registerEval(program);
  registerEmbed(program);
  registerStudy(program);
  return program;
}

/** Entry point of the `mmc` binary. */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
