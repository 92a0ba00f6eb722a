import * as tf from '@tensorflow/tfjs';
import type { SceneDataset } from '@mmc/data';
import { requestedBackend, startBackend } from './backend.js';
import { drawOverlay } from './draw.js';
import type { PageHook } from './hook.js';
import { fileImage, sceneImage, type PageImage } from './images.js';
import { fetchCheckpoint, modelFromCheckpoint, trainInTab, untrainedModel, type PageModel } from './model.js';
import { PAGE_SCENES, pageScenes } from './scenes.js';
import { patchTokens, segmentAt, thresholdMap } from './segment.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('view');
const thresholdInput = $<HTMLInputElement>('threshold');
const alphaInput = $<HTMLInputElement>('map-alpha');
const query = new URLSearchParams(location.search);

const hook: PageHook = { backend: '', skipped: [], model: '', imageSize: 0, scene: 0, featuresMs: 0 };
window.mmcPage = hook;

let model: PageModel;
let dataset: SceneDataset;
let image: PageImage;
let tokens: tf.Tensor3D | undefined;
let map: { similarity: Float32Array; mask: Uint8Array; x: number; y: number } | undefined;

function setState(state: 'loading' | 'ready' | 'busy' | 'error') {
  document.body.dataset.state = state;
}

function showError(e: unknown) {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  hook.error = msg;
  const el = $('error');
  el.textContent = msg;
  el.hidden = false;
  setState('error');
  console.error(e);
}

/** Runs a step of the UI with the busy state and error display. */
async function busy(step: () => Promise<void> | void) {
  setState('busy');
  try {
    await step();
    setState('ready');
  } catch (e) {
    showError(e);
  }
}

function redraw() {
  const S = model.vit.config.imageSize;
  drawOverlay(canvas, {
    image: image.display,
    smooth: image.smooth,
    mapAlpha: Number(alphaInput.value),
    map: map && { similarity: map.similarity, mask: map.mask, size: S, prompt: { x: map.x, y: map.y } },
  });
}

/** Shows an image and computes its patch tokens (once per image; clicks reuse them). */
async function showImage(next: PageImage) {
  image = next;
  map = undefined;
  tokens?.dispose();
  const t0 = performance.now();
  tokens = patchTokens(model.vit, image.rgb);
  await tokens.data();
  hook.featuresMs = performance.now() - t0;
  $('timing').textContent = `– (ViT forward for this image ${hook.featuresMs.toFixed(1)} ms)`;
  redraw();
}

async function showScene(i: number) {
  const S = model.vit.config.imageSize;
  const n = PAGE_SCENES.count;
  hook.scene = ((i % n) + n) % n;
  $('scene').textContent = String(hook.scene);
  const b = dataset.batch([hook.scene]);
  await showImage(sceneImage(b.images, S));
}

async function useModel(next: PageModel) {
  model?.vit.dispose();
  model = next;
  hook.model = next.label;
  hook.imageSize = next.vit.config.imageSize;
  const c = next.vit.config;
  $('model').textContent = `${next.label} · ViT ${c.dim} wide, ${c.depth} blocks, ${c.imageSize}×${c.imageSize}/${c.patchSize}`;
  if (!dataset || dataset.imageSize !== c.imageSize) dataset = pageScenes(c.imageSize);
  await showScene(hook.scene);
}

async function onClick(ev: MouseEvent) {
  if (!tokens) return;
  const S = model.vit.config.imageSize;
  const rect = canvas.getBoundingClientRect();
  const x = Math.min(S - 1, Math.max(0, Math.floor(((ev.clientX - rect.left) * S) / rect.width)));
  const y = Math.min(S - 1, Math.max(0, Math.floor(((ev.clientY - rect.top) * S) / rect.height)));
  const threshold = Number(thresholdInput.value);
  const t0 = performance.now();
  const seg = await segmentAt(tokens, S, x, y, threshold);
  const t1 = performance.now();
  map = { similarity: seg.similarity, mask: seg.mask, x, y };
  redraw();
  const t2 = performance.now();
  hook.last = {
    x, y, row: seg.prompt.row, col: seg.prompt.col, threshold, mask: Array.from(seg.mask),
    similarityMs: t1 - t0, drawMs: t2 - t1, clickMs: t2 - t0, count: (hook.last?.count ?? 0) + 1,
  };
  $('timing').textContent = `${(t2 - t0).toFixed(1)} ms (similarity on ${hook.backend} ${(t1 - t0).toFixed(1)} ms, drawing ${(t2 - t1).toFixed(1)} ms); ViT forward for this image ${hook.featuresMs.toFixed(1)} ms`;
}

function onThreshold() {
  const t = Number(thresholdInput.value);
  $('threshold-value').textContent = t.toFixed(2);
  if (!map) return;
  map.mask = thresholdMap(map.similarity, t);
  if (hook.last) hook.last = { ...hook.last, threshold: t, mask: Array.from(map.mask) };
  redraw();
}

/** Dropped or picked files: a checkpoint pair (config.json + .safetensors) or a picture. */
async function onFiles(files: FileList | File[]) {
  const list = Array.from(files);
  const weights = list.find((f) => f.name.endsWith('.safetensors'));
  const config = list.find((f) => f.name.endsWith('.json'));
  if (weights && config) {
    const m = await modelFromCheckpoint(JSON.parse(await config.text()), new Uint8Array(await weights.arrayBuffer()), `checkpoint ${weights.name}`);
    await useModel(m);
  } else if (weights || config) {
    throw new Error('a checkpoint needs both files: backbone.safetensors and config.json');
  } else if (list[0]) {
    await showImage(await fileImage(list[0], model.vit.config.imageSize, canvas.width));
  }
}

async function onTrain() {
  const steps = Math.max(1, Math.floor(Number($<HTMLInputElement>('train-steps').value)));
  const progress = $<HTMLProgressElement>('train-progress');
  const status = $('train-status');
  progress.hidden = false;
  const m = await trainInTab({
    steps,
    batchSize: 16,
    onStep: async (s) => {
      progress.value = s.step / s.steps;
      const loss = s.losses.loss === undefined ? '' : `, loss ${s.losses.loss.toFixed(3)}`;
      status.textContent = `step ${s.step}/${s.steps}${loss}, ${s.stepsPerSecond.toFixed(2)} steps/s`;
      await new Promise((r) => setTimeout(r, 0)); // let the page repaint
    },
  });
  await useModel(m);
}

function wire() {
  canvas.addEventListener('click', (e) => {
    if (document.body.dataset.state === 'ready') busy(() => onClick(e)); // one click at a time
  });
  thresholdInput.addEventListener('input', onThreshold);
  alphaInput.addEventListener('input', redraw);
  $('prev').addEventListener('click', () => busy(() => showScene(hook.scene - 1)));
  $('next').addEventListener('click', () => busy(() => showScene(hook.scene + 1)));
  $('image-file').addEventListener('change', (e) => busy(() => onFiles((e.target as HTMLInputElement).files ?? [])));
  $('checkpoint-files').addEventListener('change', (e) => busy(() => onFiles((e.target as HTMLInputElement).files ?? [])));
  $('train').addEventListener('click', () => busy(onTrain));
  const stage = $('stage');
  stage.addEventListener('dragover', (e) => {
    e.preventDefault();
    stage.classList.add('drop');
  });
  stage.addEventListener('dragleave', () => stage.classList.remove('drop'));
  stage.addEventListener('drop', (e) => {
    e.preventDefault();
    stage.classList.remove('drop');
    busy(() => onFiles(e.dataTransfer?.files ?? []));
  });
}

async function start() {
  const { name, skipped } = await startBackend(requestedBackend(location.search));
  hook.backend = name;
  hook.skipped = skipped;
  const el = $('backend');
  el.textContent = name;
  el.title = skipped.join('\n');
  const t = query.get('threshold');
  if (t !== null) thresholdInput.value = t;
  onThreshold();
  hook.scene = Number(query.get('scene') ?? 0) || 0;
  const checkpoint = query.get('checkpoint');
  await useModel(checkpoint ? await fetchCheckpoint(checkpoint) : untrainedModel(0));
  wire();
}

busy(start);
