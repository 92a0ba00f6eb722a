/**
 * Test helpers of the `mmc eval` tests: run the program in-process (stdout and stderr captured,
 * commander's exits turned into exceptions) and write small .npy/.safetensors fixtures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { Command } from 'commander';
import type { NdArray } from '@mmc/core';
import { writeNpyFile, writeSafetensorsFile } from '@mmc/core/node';
import { buildProgram } from '../src/main.js';

/** What one in-process run printed, and the error it ended with (if any). */
export interface CliRun {
  stdout: string;
  stderr: string;
  error?: Error;
}

function overrideExits(cmd: Command, out: (s: string) => void, err: (s: string) => void): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: out, writeErr: err });
  for (const sub of cmd.commands) overrideExits(sub, out, err);
}

/**
 * Runs `mmc <args>` in-process (buildProgram().parseAsync with from: 'user'). Errors are
 * returned, not thrown, with everything written to stdout/stderr.
 */
export async function runMmc(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const program = buildProgram();
  overrideExits(program, (s) => (stdout += s), (s) => (stderr += s));
  const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { stdout, stderr };
  } catch (e) {
    return { stdout, stderr, error: e as Error };
  } finally {
    outSpy.mockRestore();
    errSpy.mockRestore();
  }
}

/** Runs `mmc <args> --json --quiet --backend cpu` and parses stdout (which must be one JSON line). */
export async function runJson(args: string[]): Promise<Record<string, any>> {
  const r = await runMmc([...args, '--json', '--quiet', '--backend', 'cpu']);
  if (r.error) throw r.error;
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length !== 1) throw new Error(`expected one JSON line on stdout, got ${lines.length}: ${r.stdout.slice(0, 500)}`);
  return JSON.parse(lines[0]);
}

/** A temporary directory with `.npy` / `.safetensors` writers; `cleanup()` removes it. */
export function fixtureDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `mmc-${prefix}-`));
  return {
    dir,
    path: (name: string) => join(dir, name),
    async npy(name: string, array: NdArray): Promise<string> {
      const p = join(dir, name);
      await writeNpyFile(p, array);
      return p;
    },
    async safetensors(name: string, tensors: Record<string, NdArray>): Promise<string> {
      const p = join(dir, name);
      await writeSafetensorsFile(p, tensors);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** xorshift32 uniform [0, 1) generator (test data only). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Float32 `[n, d]` rows of a Gaussian mixture: `classes` centres drawn from `centreSeed` (shared
 * by train and test sets), row i = centre(labels[i]) + spread · noise from `sampleSeed`.
 */
export function clusters(centreSeed: number, sampleSeed: number, n: number, d: number, classes: number, spread = 0.8) {
  const gaussOf = (rand: () => number) => () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const gc = gaussOf(uniform(centreSeed));
  const centres = Array.from({ length: classes * d }, () => gc());
  const rand = uniform(sampleSeed);
  const gauss = gaussOf(rand);
  const labels = new Int32Array(n);
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(rand() * classes);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[labels[i] * d + j] + spread * gauss();
  }
  return { data, labels, shape: [n, d] };
}
