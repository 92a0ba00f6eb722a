/**
 * Crash safety of writeFileAtomic: a child Node process rewrites one large file in a loop
 * (each version self-checking: header + payload + SHA-256); the parent SIGKILLs it at random
 * moments, several times, and after every kill the target must be a complete version — the
 * last one the child reported done, or the one it was writing (renamed just before the kill) —
 * never a partial or mixed file. Leftover `.tmp` files are allowed.
 *
 * The child runs @mmc/core/node's own code: packages/core/src/node.ts bundled with esbuild
 * (the source under test, not a possibly stale build), else packages/core/dist/node.js.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SIZE = 4 * 2 ** 20; // bytes per version: large enough that a kill often lands mid-write
const KILLS = 8;
const dir = mkdtempSync(join(tmpdir(), 'mmc-atomic-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const srcEntry = fileURLToPath(new URL('../src/node.ts', import.meta.url));
const distEntry = fileURLToPath(new URL('../dist/node.js', import.meta.url));

/** The module the child imports: src bundled by esbuild, else the built dist, else null (skip). */
async function childModule(): Promise<string | null> {
  try {
    const esbuild = await import('esbuild');
    const outfile = join(dir, 'core-node.mjs');
    await esbuild.build({ entryPoints: [srcEntry], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent' });
    return outfile;
  } catch {
    return existsSync(distEntry) ? distEntry : null;
  }
}
const modulePath = await childModule();

/**
 * The child: version v is `MMCV` + u32 v + u32 payload length + payload (a byte pattern of v) +
 * SHA-256 of everything before it. Prints `done v` after each completed writeFileAtomic.
 */
const CHILD = (mod: string, target: string, start: number) => `
import { createHash } from 'node:crypto';
import { writeFileAtomic } from ${JSON.stringify(pathToFileURL(mod).href)};
const SIZE = ${SIZE};
function version(v) {
  const body = new Uint8Array(12 + SIZE);
  body.set([0x4d, 0x4d, 0x43, 0x56]);
  new DataView(body.buffer).setUint32(4, v, true);
  new DataView(body.buffer).setUint32(8, SIZE, true);
  for (let i = 0; i < SIZE; i++) body[12 + i] = (v * 31 + i * 7) & 255;
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(createHash('sha256').update(body).digest(), body.length);
  return out;
}
for (let v = ${start}; ; v++) {
  await writeFileAtomic(${JSON.stringify(target)}, version(v));
  process.stdout.write('done ' + v + '\\n');
}
`;

/** The version held by `bytes`, or a description of why it is not a complete version. */
function check(bytes: Uint8Array): { version: number } | { bad: string } {
  if (bytes.length !== 12 + SIZE + 32) return { bad: `length ${bytes.length}, expected ${12 + SIZE + 32}` };
  const body = bytes.subarray(0, 12 + SIZE);
  const sha = createHash('sha256').update(body).digest();
  if (!sha.equals(bytes.subarray(12 + SIZE))) return { bad: 'SHA-256 mismatch' };
  const v = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  for (let i = 0; i < SIZE; i += 4099) if (body[12 + i] !== ((v * 31 + i * 7) & 255)) return { bad: `payload byte ${i}` };
  return { version: v };
}

/** Runs the child from version `start`; SIGKILLs it `delayMs` after its `warmup`-th completed write (or after `delayMs` when warmup is 0). */
function runAndKill(script: string, warmup: number, delayMs: number): Promise<{ lastDone: number; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastDone = -1;
    let completed = 0;
    let stderr = '';
    let armed = false;
    const arm = () => {
      if (armed) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    if (warmup === 0) arm();
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = /^done (\d+)$/.exec(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (m) {
          lastDone = Number(m[1]);
          if (++completed >= warmup) arm();
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null) reject(new Error(`child exited by itself (code ${code}): ${stderr}`));
      else resolve({ lastDone, signal });
    });
  });
}

describe('writeFileAtomic under SIGKILL', () => {
  it.skipIf(modulePath === null)(
    `the target is always a complete old or new version after ${KILLS} random kills (child: src via esbuild, or dist)`,
    async () => {
      const target = join(dir, 'checkpoint.bin');
      // Deterministic "random" kill moments (mulberry32), spread over a write's duration.
      let s = 20240611;
      const rand = () => {
        s = (s + 0x6d2b79f5) | 0;
        let t = Math.imul(s ^ (s >>> 15), 1 | s);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      let expectedMin = 0; // the last version known complete (0: no file yet)
      const seen: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        const start = expectedMin + 1;
        const script = join(dir, `child-${k}.mjs`);
        writeFileSync(script, CHILD(modulePath!, target, start));
        // First kill on a timer 150 ms after spawn (whatever the child is doing); later ones 0-60 ms after its 1st or 2nd write.
        const warmup = k === 0 ? 0 : 1 + Math.floor(rand() * 2);
        const delay = k === 0 ? 150 : Math.floor(rand() * 60);
        const { lastDone, signal } = await runAndKill(script, warmup, delay);
        expect(signal).toBe('SIGKILL');
        if (!existsSync(target)) {
          expect(lastDone, `no file after kill ${k}, but the child reported version ${lastDone} done`).toBe(-1);
          expect(expectedMin).toBe(0);
          seen.push(0);
          continue;
        }
        const r = check(readFileSync(target));
        if ('bad' in r) throw new Error(`kill ${k}: target is not a complete version: ${r.bad}`);
        const done = lastDone >= 0 ? lastDone : expectedMin;
        // Either the last version reported done, or the next one (renamed before the child could report it).
        expect([done, done + 1], `kill ${k}: version ${r.version}, last done ${done}`).toContain(r.version);
        expect(r.version).toBeGreaterThanOrEqual(expectedMin);
        expectedMin = r.version;
        seen.push(r.version);
      }
      expect(expectedMin).toBeGreaterThan(0);
      // Temp files of interrupted writes may remain; they never replace the target.
      const leftovers = readdirSync(dir).filter((f) => f.startsWith('.checkpoint.bin.') && f.endsWith('.tmp'));
      for (const f of leftovers) expect(f).toMatch(/^\.checkpoint\.bin\.[0-9a-f]{12}\.tmp$/);
      expect(seen.length).toBe(KILLS);
    },
    30_000,
  );
});
