import cliProgress from 'cli-progress';
import type { StepInfo } from '@mmc/recipes';

/**
 * Training progress on stderr: a live bar (step, loss parts, steps/s, ETA) on a terminal, or one
 * plain line every `lineEvery` steps when stderr is not a TTY (CI logs, pipes).
 */
export function trainingProgress(total: number, opts: { lineEvery?: number; startStep?: number } = {}) {
  const tty = Boolean(process.stderr.isTTY);
  const lineEvery = opts.lineEvery ?? Math.max(1, Math.round(total / 20));
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'step {value}/{total} |{bar}| {losses} | {rate} steps/s | ETA {eta_formatted}',
          barsize: 20,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, opts.startStep ?? 0, { losses: '', rate: '-' });
  let last: StepInfo | undefined;
  const describe = (s: StepInfo) =>
    Object.entries(s.losses)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(' ');
  return {
    update(s: StepInfo) {
      if (Object.keys(s.losses).length) last = s;
      const losses = last ? describe(last) : '';
      if (bar) bar.update(s.step, { losses, rate: s.stepsPerSecond.toFixed(2) });
      else if (s.step % lineEvery === 0 || s.step === total) {
        const eta = (total - s.step) / Math.max(s.stepsPerSecond, 1e-9);
        process.stderr.write(`step ${s.step}/${total} | ${losses} | ${s.stepsPerSecond.toFixed(2)} steps/s | ETA ${eta.toFixed(0)}s\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
