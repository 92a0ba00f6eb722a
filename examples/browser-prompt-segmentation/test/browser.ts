/**
 * Test and measurement helpers: build the page with Vite, serve it with `vite preview` on
 * 127.0.0.1, and drive Debian's Chromium (`/usr/bin/chromium`, WebGPU on SwiftShader when no GPU)
 * with playwright-core.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { build, preview } from 'vite';

/** The example's folder. */
export const EXAMPLE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the e2e test writes screenshots and measured numbers (gitignored). */
export const ARTIFACTS = join(EXAMPLE_ROOT, '..', '..', 'test-results', 'browser-prompt-segmentation');

/** Where Debian's chromium package installs the browser (`apt-get install chromium`). */
export const CHROMIUM = process.env.MMC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags: WebGPU on (SwiftShader's adapter where there is no GPU), nothing that phones home.
 * Playwright adds `--headless` (headless: true) and `--user-data-dir` (a fresh folder) itself.
 */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when the Chromium binary exists. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** `vite build` of the page into `dist/` (both entries: index.html and parity.html). */
export async function buildPage(): Promise<void> {
  await build({ root: EXAMPLE_ROOT, configFile: join(EXAMPLE_ROOT, 'vite.config.ts'), logLevel: 'warn' });
}

/** Serves `dist/` on 127.0.0.1 (a free port) and resolves to its URL and a close function. */
export async function servePage(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await preview({
    root: EXAMPLE_ROOT,
    configFile: join(EXAMPLE_ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview: no local URL');
  return { url, close: () => server.close() };
}

/** A fresh Chromium profile (removed by `close`) with the flags above. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'mmc-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 720 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
