/**
 * Measures what a click costs on each backend in Chromium: builds and serves the page, opens it
 * with ?backend=webgpu|webgl|wasm|cpu on scene 7 (untrained demo ViT), clicks the scene's objects
 * 11 times (the first compiles the kernels and is reported apart), then shows the next scene to
 * time a warm ViT forward. Prints a Markdown table and writes
 * test-results/browser-prompt-segmentation/clicks.json.
 *
 *     cd examples/browser-prompt-segmentation && npx vite-node scripts/measure-clicks.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PAGE_BACKENDS } from '../src/backend.js';
import { pageScenes } from '../src/scenes.js';
import { ARTIFACTS, buildPage, launchChromium, servePage } from '../test/browser.js';

const SCENE = 7;
const CLICKS = 10;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

await buildPage();
const server = await servePage();
const browser = await launchChromium();
const rows: Record<string, unknown>[] = [];
try {
  for (const backend of PAGE_BACKENDS) {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}?backend=${backend}&scene=${SCENE}`);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 300_000 });
    const hook = await page.evaluate(() => window.mmcPage!);
    if (hook.error) {
      rows.push({ backend, error: hook.error });
      continue;
    }
    const S = hook.imageSize;
    const objects = pageScenes(S).batch([SCENE]).objects[0];
    const box = (await page.locator('#view').boundingBox())!;
    const times: { clickMs: number; similarityMs: number; drawMs: number }[] = [];
    for (let k = 0; k <= CLICKS; k++) {
      const o = objects[k % objects.length];
      await page.mouse.click(box.x + ((o.centerCol + 0.5) * box.width) / S, box.y + ((o.centerRow + 0.5) * box.height) / S);
      await page.waitForFunction((n) => window.mmcPage?.last?.count === n && document.body.dataset.state === 'ready', k + 1, { timeout: 120_000 });
      times.push(await page.evaluate(() => window.mmcPage!.last!));
    }
    const coldFeaturesMs = hook.featuresMs;
    await page.click('#next');
    await page.waitForFunction((s) => window.mmcPage?.scene === s && document.body.dataset.state === 'ready', SCENE + 1, { timeout: 120_000 });
    const warmFeaturesMs = await page.evaluate(() => window.mmcPage!.featuresMs);
    const warm = times.slice(1);
    rows.push({
      backend: hook.backend,
      firstClickMs: times[0].clickMs,
      click: stats(warm.map((t) => t.clickMs)),
      similarity: stats(warm.map((t) => t.similarityMs)),
      draw: stats(warm.map((t) => t.drawMs)),
      coldFeaturesMs,
      warmFeaturesMs,
    });
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
mkdirSync(ARTIFACTS, { recursive: true });
writeFileSync(join(ARTIFACTS, 'clicks.json'), `${JSON.stringify(rows, null, 2)}\n`);
const f = (x: number) => x.toFixed(1);
console.log('| backend | click, median (min–max) ms | similarity + read-back | drawing | first click | ViT forward, first image | ViT forward, next image |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows as Record<string, never>[]) {
  if (r.error) {
    console.log(`| ${r.backend} | error: ${r.error} |`);
    continue;
  }
  const m = (s: { median: number; min: number; max: number }) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
  console.log(`| ${r.backend} | ${m(r.click)} | ${m(r.similarity)} | ${m(r.draw)} | ${f(r.firstClickMs)} | ${f(r.coldFeaturesMs)} | ${f(r.warmFeaturesMs)} |`);
}
