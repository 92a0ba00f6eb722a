import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { isBackendInitialised, useBackend, type BackendName } from '@mmc/core';
import { registerWasmKernels } from '@mmc/kernels';
import { intArg } from './options.js';

/** The backend options every command takes. */
export interface BackendOptions {
  backend: BackendName;
  /** Threads of the wasm backend (default: the machine's cores, at most 8). */
  threads?: number;
  /** On the wasm backend, register @mmc/kernels' faster kernels (default true; `--no-kernels`). */
  kernels?: boolean;
}

/** Every core of this machine, at most 8 (tfjs' wasm pool). */
export const defaultThreads = (): number => Math.max(1, Math.min(8, availableParallelism()));

/** Adds `--backend` and `--threads` to a command. */
export function addBackendOptions(command: Command): Command {
  return command
    .option('--backend <name>', 'auto | cpu | wasm | webgpu | tensorflow', 'auto')
    .option('--threads <n>', "threads of the wasm backend's matrix kernels, 1-8 (default: the machine's cores, at most 8)", intArg(1))
    .option('--no-kernels', "on wasm, keep tfjs' own kernels instead of @mmc/kernels' faster ones");
}

/**
 * Starts the backend the options name; resolves to its name. Without `threads`, the wasm backend
 * gets every core when this process starts it, and keeps its count when it already runs. On wasm,
 * @mmc/kernels' kernels are registered unless `kernels` is false (same results to float32
 * rounding; the demo's step is about 1.6× faster with them).
 */
export async function startBackend(o: BackendOptions): Promise<string> {
  const threads = o.threads ?? (isBackendInitialised('wasm') ? undefined : defaultThreads());
  const name = await useBackend(o.backend, { threads });
  if (name === 'wasm' && o.kernels !== false) registerWasmKernels();
  return name;
}
