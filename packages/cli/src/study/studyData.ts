import { ValueError } from '@mmc/core';
import {
  createSceneDataset,
  DatasetNotFoundError,
  FASHION_MNIST_APT_PACKAGE,
  FASHION_MNIST_DIR,
  fashionMnist,
  fashionScenes,
  objectCrops,
  scenes,
  type FashionMnist,
  type ObjectCrops,
  type SceneDataset,
} from '@mmc/data';
import type { StudyConfig } from './config.js';

/** The study's data sets: `scenes` (generated) and `fashion` (Fashion-MNIST items on generated backgrounds). */
export const STUDY_DATA_NAMES = ['scenes', 'fashion'] as const;
export type StudyDataName = (typeof STUDY_DATA_NAMES)[number];

/** One data set of the study: training scenes, held-out scenes, and the k-NN crops. */
export interface StudyData {
  name: StudyDataName;
  /** One line for the report. */
  description: string;
  train: SceneDataset;
  /** Held-out scenes of the zero-shot evaluation. */
  eval: SceneDataset;
  /** k-NN bank: one crop per object of the first `knnBankScenes` training scenes. */
  bank: ObjectCrops;
  /** k-NN queries: one crop per object of `knnQueryScenes` further held-out scenes. */
  queries: ObjectCrops;
}

/** The first `n` scenes of `ds` as a data set of their own. */
function firstScenes(ds: SceneDataset, n: number): SceneDataset {
  const b = ds.batch(Array.from({ length: Math.min(n, ds.count) }, (_, i) => i));
  const { images, classMasks, instanceMasks, objects } = b;
  return createSceneDataset({ count: b.shape[0], imageSize: ds.imageSize, channels: ds.channels, images, classMasks, instanceMasks, objects, numClasses: ds.numClasses, classNames: ds.classNames });
}

/** Fashion-MNIST's two splits, or undefined when the data set is not installed. */
async function fashionSplits(): Promise<Record<'train' | 'test', FashionMnist> | undefined> {
  try {
    return { train: await fashionMnist({ split: 'train' }), test: await fashionMnist({ split: 'test' }) };
  } catch (e) {
    if (e instanceof DatasetNotFoundError) return undefined;
    throw e;
  }
}

/**
 * Builds the data set `name` of the study from `cfg`, or returns `{ skipped }` with the reason when
 * it cannot be had (Fashion-MNIST not installed). Training scenes use `cfg.dataSeed`, the zero-shot
 * scenes `dataSeed + 10000`, the k-NN query scenes `dataSeed + 20000`; Fashion scenes draw their
 * training items from Fashion-MNIST's train split and every held-out item from its test split.
 * Crops are `imageSize` square (the ViT's input).
 */
export async function loadStudyData(name: string, cfg: StudyConfig): Promise<StudyData | { skipped: string }> {
  const { imageSize, dataSeed: seed } = cfg;
  let make: (count: number, seed: number, split: 'train' | 'test') => SceneDataset;
  let description: string;
  if (name === 'scenes') {
    make = (count, s) => scenes({ count, imageSize, seed: s, objects: cfg.objects, sizeRange: cfg.sizeRange });
    description = `scenes: ${imageSize}×${imageSize}, ${cfg.objects[0]}–${cfg.objects[1]} objects of 6 classes, ${cfg.sizeRange[0]}–${cfg.sizeRange[1]} of the image wide`;
  } else if (name === 'fashion') {
    const sources = await fashionSplits();
    if (!sources) return { skipped: `Fashion-MNIST is not installed in ${FASHION_MNIST_DIR} (apt-get install ${FASHION_MNIST_APT_PACKAGE})` };
    make = (count, s, split) => fashionScenes({ count, imageSize, seed: s, source: sources[split] });
    description = `fashionScenes: ${imageSize}×${imageSize}, 1–3 Fashion-MNIST items of 10 classes (training items from the train split, held-out items from the test split)`;
  } else {
    throw new ValueError(`mmc study: --data must list ${STUDY_DATA_NAMES.join(', ')}, got '${name}'`);
  }
  const train = make(cfg.trainCount, seed, 'train');
  const crops = (ds: SceneDataset) => objectCrops(ds, { size: imageSize });
  return {
    name,
    description,
    train,
    eval: make(cfg.evalCount, seed + 10_000, 'test'),
    bank: crops(firstScenes(train, cfg.knnBankScenes)),
    queries: crops(make(cfg.knnQueryScenes, seed + 20_000, 'test')),
  };
}
