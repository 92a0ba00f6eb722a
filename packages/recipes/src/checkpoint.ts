/**
 * Training checkpoints (Node only; `train` imports this file lazily when `checkpoint` is set).
 * One safetensors file holds the student (`student/…`), everything else a run needs to continue
 * (`state/…`: teacher, centers), the AdamW moments (`adamw/m/…`, `adamw/v/…`), and in its metadata
 * the step, the optimizer step, both rng states and a SHA-256 of all tensor bytes. It is written to
 * a temp file and renamed over `checkpoint.safetensors`, so a crash mid-write loses nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FormatError, readSafetensors, readSafetensorsHeader, toTensor, writeSafetensors, type NdArray } from '@mmc/core';
import { writeFileAtomic } from '@mmc/core/node';
import type { Recipe } from './recipe.js';
import type { TrainState } from './train.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'mmc-checkpoint/1';

function checksum(tensors: Record<string, NdArray>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(tensors).sort()) {
    const d = tensors[name].data;
    h.update(name);
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

function collect(recipe: Recipe, state: TrainState): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [n, v] of Object.entries(recipe.variables())) out[`student/${n}`] = v;
  for (const [n, v] of Object.entries(recipe.state())) out[`state/${n}`] = v;
  for (const [n, v] of Object.entries(state.optimizer.state.m)) out[`adamw/m/${n}`] = v;
  for (const [n, v] of Object.entries(state.optimizer.state.v)) out[`adamw/v/${n}`] = v;
  return out;
}

/** Writes `dir/checkpoint.safetensors` atomically. */
export async function saveCheckpoint(dir: string, recipe: Recipe, state: TrainState): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tensors: Record<string, NdArray> = {};
  for (const [name, v] of Object.entries(collect(recipe, state))) {
    tensors[name] = { dtype: 'float32', shape: v.shape.slice(), data: new Float32Array(await v.data()) } as NdArray;
  }
  const metadata = {
    format: FORMAT,
    recipe: recipe.name,
    step: String(state.step),
    optimizerStep: String(state.optimizer.state.step),
    dataRng: JSON.stringify(state.dataRng.getState()),
    viewRng: JSON.stringify(state.viewRng.getState()),
    sha256: checksum(tensors),
  };
  const path = join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
  return path;
}

/**
 * Restores student, state, optimizer moments, step and rngs from `dir/checkpoint.safetensors` if
 * it exists (returns false otherwise). A damaged or foreign file raises a FormatError naming it.
 */
export async function restoreCheckpoint(dir: string, recipe: Recipe, state: TrainState): Promise<boolean> {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) return false;
  const bytes = await readFile(path);
  let header: ReturnType<typeof readSafetensorsHeader>;
  let tensors: Record<string, NdArray>;
  try {
    header = readSafetensorsHeader(bytes);
    tensors = readSafetensors(bytes);
  } catch (e) {
    throw new FormatError(`checkpoint ${path} is damaged or truncated: ${(e as Error).message}`);
  }
  const meta = header.metadata ?? {};
  if (meta.format !== FORMAT) throw new FormatError(`checkpoint ${path} is not an @mmc training checkpoint (format '${meta.format}')`);
  if (meta.sha256 !== checksum(tensors)) {
    throw new FormatError(`checkpoint ${path} is damaged: the SHA-256 of its tensors does not match the one recorded when it was written`);
  }
  if (meta.recipe !== recipe.name) {
    throw new FormatError(`checkpoint ${path} was written by recipe '${meta.recipe}', not '${recipe.name}'`);
  }
  const assign = (target: tf.Variable, name: string) => {
    const nd = tensors[name];
    if (!nd) throw new FormatError(`checkpoint ${path} lacks tensor '${name}'`);
    if (nd.shape.length !== target.shape.length || nd.shape.some((d, i) => d !== target.shape[i])) {
      throw new FormatError(`checkpoint ${path}: '${name}' has shape [${nd.shape.join(', ')}], the model expects [${target.shape.join(', ')}]`);
    }
    tf.tidy(() => target.assign(toTensor(nd)));
  };
  for (const [n, v] of Object.entries(recipe.variables())) assign(v, `student/${n}`);
  for (const [n, v] of Object.entries(recipe.state())) assign(v, `state/${n}`);
  const opt = state.optimizer.state;
  tf.dispose([...Object.values(opt.m), ...Object.values(opt.v)]);
  opt.m = {};
  opt.v = {};
  for (const name of Object.keys(tensors)) {
    for (const kind of ['m', 'v'] as const) {
      const prefix = `adamw/${kind}/`;
      if (name.startsWith(prefix)) {
        const n = name.slice(prefix.length);
        opt[kind][n] = tf.tidy(() => tf.variable(toTensor(tensors[name]), false));
      }
    }
  }
  opt.step = Number(meta.optimizerStep);
  state.step = Number(meta.step);
  state.dataRng.setState(JSON.parse(meta.dataRng));
  state.viewRng.setState(JSON.parse(meta.viewRng));
  return true;
}
