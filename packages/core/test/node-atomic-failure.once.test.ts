/**
 * writeFileAtomic when the disk fails midway: node:fs/promises is wrapped so that writing,
 * fsync or rename can be made to fail on demand. The existing file must survive unchanged and
 * the temporary file must be gone.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const fail = vi.hoisted(() => ({ at: '' as '' | 'write' | 'sync' | 'rename' | 'close' }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const simulated = (what: string) => Object.assign(new Error(`simulated ${what} failure`), { code: 'EIO' });
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const h = await real.open(...args);
      if (String(args[0]).endsWith('.tmp')) {
        if (fail.at === 'write') {
          // Write half of it, then fail (a full disk).
          h.writeFile = async (data: Parameters<typeof h.writeFile>[0]) => {
            await real.writeFile(h, (data as Uint8Array).subarray(0, 2));
            throw simulated('write');
          };
        }
        if (fail.at === 'sync') h.sync = async () => Promise.reject(simulated('fsync'));
        if (fail.at === 'close') {
          const close = h.close.bind(h);
          h.close = async () => {
            await close();
            throw simulated('close');
          };
        }
      }
      return h;
    },
    rename: async (...args: Parameters<typeof real.rename>) => {
      if (fail.at === 'rename') throw simulated('rename');
      return real.rename(...args);
    },
  };
});

const { writeFileAtomic, writeNpyFile } = await import('../src/node.js');

const dir = mkdtempSync(join(tmpdir(), 'mmc-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  fail.at = '';
});

describe('writeFileAtomic under simulated I/O failures', () => {
  for (const at of ['write', 'sync', 'close', 'rename'] as const) {
    it(`a ${at} failure leaves the old file intact and no temporary file`, async () => {
      const p = join(dir, `target-${at}.bin`);
      writeFileSync(p, 'the old, complete content');
      fail.at = at;
      const e = await writeFileAtomic(p, new Uint8Array(1000).fill(7)).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toMatch(new RegExp(`writeFileAtomic: cannot write .*target-${at}\\.bin: simulated`));
      expect((e as NodeJS.ErrnoException).code).toBe('EIO');
      expect(readFileSync(p, 'utf8')).toBe('the old, complete content');
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('a failure while creating a new file leaves nothing behind', async () => {
    fail.at = 'sync';
    const p = join(dir, 'fresh.npy');
    await expect(writeNpyFile(p, { dtype: 'uint8', shape: [3], data: new Uint8Array(3) })).rejects.toThrow(/simulated fsync/);
    expect(readdirSync(dir).filter((f) => f.startsWith('fresh') || f.includes('fresh.npy'))).toEqual([]);
  });

  it('works again once the failure is gone', async () => {
    const p = join(dir, 'target-write.bin');
    await writeFileAtomic(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
  });
});
