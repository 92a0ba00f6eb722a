import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createViT, loadWeights, vitTiny } from '@mmc/models';

// The example runs on the built packages, as a user runs it.
describe('examples/node-pretrain', () => {
  const out = mkdtempSync(join(tmpdir(), 'mmc-node-pretrain-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const run = (steps: number) =>
    execFileSync('node', ['examples/node-pretrain/pretrain.mjs', '--steps', String(steps), '--out', out, '--threads', '1'], { encoding: 'utf8' });

  it('trains, checkpoints, resumes where it stopped, and writes timm weights that load back', async () => {
    if (!existsSync('packages/recipes/dist/index.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
    const first = run(20);
    expect(first).toMatch(/step 20\/20: loss \d/);
    expect(first).not.toMatch(/resumed/);
    expect(readdirSync(join(out, 'checkpoint')).length).toBeGreaterThan(0);
    const second = run(30);
    expect(second).toMatch(/resumed at step 20/);
    expect(second).toMatch(/step 30\/30/);
    expect(second).not.toMatch(/step 10\/30/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ steps: 30, startStep: 20 });
    for (const m of [result.untrained, result.trained, result.overlap]) expect(m).toBeGreaterThanOrEqual(0);
    for (const m of [result.untrained, result.trained, result.overlap]) expect(m).toBeLessThanOrEqual(1);

    const before = tf.memory().numTensors;
    const vit = createViT(vitTiny({ imageSize: 32, patchSize: 4, dim: 64, depth: 3, heads: 2 }));
    const init = vit.variables['blocks.0.attn.qkv.weight'].dataSync().slice();
    const { ignored } = await loadWeights(vit, new Uint8Array(readFileSync(join(out, 'vit.safetensors'))));
    expect(ignored).toEqual([]);
    const loaded = vit.variables['blocks.0.attn.qkv.weight'].dataSync();
    expect(Array.from(loaded)).not.toEqual(Array.from(init));
    expect(loaded.every(Number.isFinite)).toBe(true);
    vit.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
