import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Installs the packed packages into a project outside the workspace: the way users get them.
describe('published packages', () => {
  it('import mmcLoss and emaUpdate from ESM and CommonJS in a fresh project', () => {
    if (!existsSync('packages/losses/dist/index.js')) {
      execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
    }
    const out = execFileSync('node', ['scripts/consumer-test.mjs'], { encoding: 'utf8' });
    expect(out).toMatch(/esm\.mjs ok/);
    expect(out).toMatch(/cjs\.cjs ok/);
  });
});
