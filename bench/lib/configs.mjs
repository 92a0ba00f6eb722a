// The ViT configurations of the benchmark; bench/pytorch/mmc_bench.py has the same list (CONFIGS).
import { vitSmall, vitTiny } from '@mmc/models';

/** name → ViT config (depth 12, MLP ratio 4; N = 64 tokens + CLS in all four). */
export const CONFIGS = {
  tiny32: { label: 'ViT-Tiny 32×32/4', vit: vitTiny({ imageSize: 32, patchSize: 4 }) },
  tiny64: { label: 'ViT-Tiny 64×64/8', vit: vitTiny({ imageSize: 64, patchSize: 8 }) },
  small32: { label: 'ViT-Small 32×32/4', vit: vitSmall({ imageSize: 32, patchSize: 4 }) },
  small64: { label: 'ViT-Small 64×64/8', vit: vitSmall({ imageSize: 64, patchSize: 8 }) },
};

/** The small configuration of the 500-step leak run. */
export const LEAK_CONFIG = { vit: vitTiny({ imageSize: 32, patchSize: 8, dim: 64, depth: 2, heads: 2 }), headHidden: 128, batch: 8 };
