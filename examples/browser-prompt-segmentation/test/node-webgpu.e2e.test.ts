/**
 * Backend parity in Node on WebGPU: `useBackend('webgpu')` through the `webgpu` npm package
 * (Dawn). Without a GPU, Dawn needs a Vulkan software driver: this test points VK_ICD_FILENAMES
 * at the SwiftShader ICD that Debian's chromium package ships (libvulkan1 must be installed; .ci/run
 * installs both) unless the variable is already set. It runs the losses and two MMC training
 * steps on cpu and on webgpu and judges them with the tolerances of src/parity/compare.ts (the
 * ViT-Tiny case runs on the same Dawn + SwiftShader stack in the Chromium test; here it would add
 * two minutes of shader compilation). It is skipped, with the reason in its title, only when
 * Dawn finds no adapter or the package is missing, and never under CI=true.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '@mmc/core';
import { judgeCase } from '../src/parity/compare.js';
import { LOSS_CASES, MMC_STEP_CASE, type ParityValues } from '../src/parity/suite.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

const unavailable = await useBackend('webgpu').then(
  () => '',
  (e: Error) => e.message,
);
if (unavailable && process.env.CI) throw new Error(`node-webgpu: no WebGPU in Node under CI: ${unavailable}`);

const CASES = [...LOSS_CASES, MMC_STEP_CASE];

describe.skipIf(unavailable !== '')(`Node WebGPU (Dawn)${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('losses and two MMC training steps agree with the cpu backend', async () => {
    await useBackend('cpu');
    const reference: Record<string, ParityValues> = {};
    for (const c of CASES) reference[c.name] = await c.run();
    expect(await useBackend('webgpu')).toBe('webgpu');
    for (const c of CASES) {
      const v = judgeCase(c.name, await c.run(), reference[c.name]);
      expect(v.pass, `${c.name}: ${JSON.stringify(v)}`).toBe(true);
    }
  }, 600_000);
});
