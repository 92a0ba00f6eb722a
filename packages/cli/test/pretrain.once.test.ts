import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, ValueError } from '@mmc/core';
import { readNpyFile } from '@mmc/core/node';
import { buildProgram } from '../src/main';
import { pretrain, type PretrainOptions } from '../src/pretrain';

const out = mkdtempSync(join(tmpdir(), 'mmc-pretrain-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const tiny: PretrainOptions = {
  recipe: 'mmc', data: 'scenes', count: 16, steps: 3, batchSize: 2, imageSize: 32, patchSize: 8, dim: 16, depth: 1, heads: 2,
  headHidden: 32, lr: 1e-3, backend: 'wasm', out, checkpointEvery: 2, resume: false, seed: 0, quiet: true,
};

describe('mmc pretrain', () => {
  it('writes checkpoint, student, timm backbone and config; resumes; the backbone feeds mmc embed', async () => {
    const before = tf.memory().numTensors;
    const r = await pretrain(tiny);
    expect(r.steps).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    for (const f of ['checkpoint.safetensors', 'student.safetensors', 'backbone.safetensors', 'config.json']) expect(existsSync(join(out, f))).toBe(true);
    const header = readSafetensorsHeader(readFileSync(join(out, 'checkpoint.safetensors')));
    expect(header.metadata?.step).toBe('3');
    const backbone = readSafetensorsHeader(readFileSync(join(out, 'backbone.safetensors')));
    expect(backbone.tensors['patch_embed.proj.weight'].shape).toEqual([16, 3, 8, 8]); // torch conv layout
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).vit.dim).toBe(16);

    const resumed = await pretrain({ ...tiny, steps: 5, resume: true });
    expect(resumed.steps).toBe(5);
    expect(readSafetensorsHeader(readFileSync(join(out, 'checkpoint.safetensors'))).metadata?.step).toBe('5');

    const feats = join(out, 'feats.npy');
    await buildProgram().exitOverride().parseAsync(
      ['embed', '--weights', join(out, 'backbone.safetensors'), '--format', 'timm', '--image-size', '32', '--patch-size', '8',
        '--dim', '16', '--depth', '1', '--heads', '2', '--data', 'scenes', '--count', '3', '--normalize', 'scenes', '--out', feats,
        '--backend', 'wasm', '--quiet'],
      { from: 'user' },
    );
    expect((await readNpyFile(feats)).shape).toEqual([3, 16]);
  });

  it('rejects an unknown recipe naming the choices', async () => {
    await expect(pretrain({ ...tiny, recipe: 'simclr' })).rejects.toThrow(ValueError);
    await expect(pretrain({ ...tiny, recipe: 'simclr' })).rejects.toThrow(/--recipe must be one of mmc, sit, dino, ibot, mae, msn/);
  });
});
