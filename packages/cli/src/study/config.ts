import { DEMO_CONFIG } from '../demo.js';

/**
 * What every run of the study shares: the backbone, heads, optimisation and data of the demo
 * (`DEMO_CONFIG`, so a new demo configuration is a new study configuration; `trainCount` training
 * scenes, `evalCount` held-out scenes for the zero-shot evaluation), plus the k-NN protocol's sizes.
 */
export type StudyConfig = typeof DEMO_CONFIG & {
  /** Training scenes whose object crops form the k-NN bank (the first ones of the training set). */
  knnBankScenes: number;
  /** Held-out scenes whose object crops are the k-NN queries. */
  knnQueryScenes: number;
  /** Neighbours of the weighted vote (DINO's protocol, T = 0.07). */
  k: number;
  /** Seed of the generated scenes (the same data for every recipe and seed); held-out scenes use `dataSeed + 10000` and `+ 20000`. */
  dataSeed: number;
};

/** The study's defaults: a copy of `DEMO_CONFIG`, a 1,000-scene k-NN bank, 500 query scenes, k = 20, data seed 0. */
export function defaultStudyConfig(): StudyConfig {
  return { ...structuredClone(DEMO_CONFIG), knnBankScenes: 1000, knnQueryScenes: 500, k: 20, dataSeed: 0 };
}
