import { ValueError } from '@mmc/core';
import type { ViT, ViTConfig } from '@mmc/models';
import {
  dinoRecipe,
  ibotRecipe,
  maeRecipe,
  mmcRecipe,
  msnRecipe,
  sitRecipe,
  type DinoRecipe,
  type IbotRecipe,
  type MaeRecipe,
  type MmcRecipe,
  type MsnRecipe,
  type SitRecipe,
} from '@mmc/recipes';

/** The recipes `mmc pretrain --recipe` and `mmc study` know, in the study's row order. */
export const RECIPE_NAMES = ['mmc', 'sit', 'dino', 'ibot', 'mae', 'msn'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

/** One of the recipes {@link recipeByName} builds. */
export type NamedRecipe = MmcRecipe | SitRecipe | DinoRecipe | IbotRecipe | MaeRecipe | MsnRecipe;

/** Options shared by every recipe the CLI builds. */
export interface RecipeByNameOptions {
  /** Hidden width of the MLP heads (not used by MAE). */
  headHidden: number;
  seed: number;
}

/** Throws `ValueError` naming `argName` unless `name` is one of {@link RECIPE_NAMES}. */
export function assertRecipeName(name: string, argName: string): asserts name is RecipeName {
  if (!(RECIPE_NAMES as readonly string[]).includes(name)) {
    throw new ValueError(`${argName} must be one of ${RECIPE_NAMES.join(', ')}, got '${name}'`);
  }
}

/**
 * Builds the recipe called `name` on a ViT of config `vit` with the CLI's head sizes: projection
 * heads (MMC, SiT, MSN) and DINO/iBOT bottlenecks of 128, `headHidden` hidden units, each recipe's
 * other defaults. Throws `ValueError` naming `argName` for an unknown name.
 *
 * @example
 * ```ts
 * const recipe = recipeByName('dino', vitTiny({ imageSize: 64, patchSize: 8, dim: 64, depth: 4, heads: 2 }), { headHidden: 256, seed: 0 });
 * ```
 */
export function recipeByName(name: string, vit: ViTConfig, o: RecipeByNameOptions, argName = '--recipe'): NamedRecipe {
  assertRecipeName(name, argName);
  const { headHidden, seed } = o;
  switch (name) {
    case 'mmc':
      return mmcRecipe({ vit, headHidden, headOut: 128, seed });
    case 'sit':
      return sitRecipe({ vit, headHidden, headOut: 128, seed });
    case 'dino':
      return dinoRecipe({ vit, headHidden, bottleneck: 128, seed });
    case 'ibot':
      return ibotRecipe({ vit, headHidden, bottleneck: 128, seed });
    case 'mae':
      return maeRecipe({ vit, seed });
    case 'msn':
      return msnRecipe({ vit, headHidden, headOut: 128, seed });
  }
}

/**
 * The network a recipe releases and is evaluated by: the EMA teacher's backbone for recipes with a
 * teacher (DINO-family practice), otherwise the student (MAE).
 */
export function releasedBackbone(recipe: NamedRecipe): ViT {
  return recipe.teacher && 'model' in recipe.teacher ? recipe.teacher.model.backbone : recipe.student;
}
