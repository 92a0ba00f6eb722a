import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo';

const out = mkdtempSync(join(tmpdir(), 'mmc-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('mmc demo', () => {
  it('trains, evaluates both networks and writes summary.json and report.html', async () => {
    const before = tf.memory().numTensors;
    const { summary } = await runDemo({ steps: 3, out, backend: 'wasm', seed: 0, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const file = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(file).toMatchObject({ recipe: 'mmc', backend: 'wasm', steps: 3 });
    expect(file.seconds).toBeGreaterThan(0);
    for (const which of ['trained', 'untrained']) {
      const r = file[which];
      expect(Object.keys(r.miouByThreshold)).toEqual(['0.1', '0.2', '0.3', '0.4']);
      for (const v of Object.values(r.miouByThreshold) as number[]) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
      expect(r.bestMiou).toBe(Math.max(...(Object.values(r.miouByThreshold) as number[])));
      expect(r.overlap).toBeGreaterThan(0);
      expect(r.overlap).toBeLessThanOrEqual(1);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect((html.match(/data:image\/png;base64,/g) ?? []).length).toBe(12);
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});
