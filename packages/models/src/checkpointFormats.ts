import { FormatError, ValueError } from '@mmc/core';

/** Checkpoint layouts {@link loadWeights} understands (all as safetensors with flattened names). */
export type WeightsFormat = 'timm' | 'dino' | 'ibot' | 'mae' | 'mocov3' | 'sit' | 'mmc';

/** Every {@link WeightsFormat}. */
export const WEIGHTS_FORMATS: readonly WeightsFormat[] = ['timm', 'dino', 'ibot', 'mae', 'mocov3', 'sit', 'mmc'];

/** Teacher first (the branch DINO's and iBOT's evaluation code loads by default), then student, then bare. */
const SSL_PREFIXES = [
  'teacher.backbone.',
  'teacher.module.backbone.',
  'module.teacher.backbone.',
  'teacher.',
  'student.module.backbone.',
  'student.backbone.',
  'student.',
  'module.backbone.',
  'backbone.',
  'module.',
  '',
];
/** DINO/iBOT/SiT/MMC keys outside the backbone: the other branch and the projection/reconstruction heads. */
const SSL_IGNORE = [/^(module\.)?(teacher|student)\./, /^(module\.)?(head|head_recons|heads|predictor|projector|decoder)[._]/, /^fc_norm\./];

interface FormatRule {
  /** Candidate prefixes of the backbone keys, tried in order; the first holding a backbone key wins. */
  prefixes: string[];
  /** Non-backbone keys that are dropped silently (heads, decoders, the other branch). */
  ignore: RegExp[];
  /** Checkpoint name (after the prefix) → @mmc name, for names that differ. */
  aliases: Record<string, string>;
  /** Backbone names the checkpoint's own tensor of that name must NOT fill (MAE's decoder `mask_token`). */
  excluded: string[];
}

/**
 * The key layout of each official code base, as its checkpoint reads after conversion to
 * safetensors (nested state dicts flattened with '.'):
 *
 * - `timm`: `VisionTransformer.state_dict()` names 1:1 (`patch_embed.proj.weight`, `blocks.0.attn.qkv.weight`,
 *   …); classifier `head.*` / `fc_norm.*` ignored.
 * - `dino` (facebookresearch/dino `main_dino.py`), `ibot` (bytedance/ibot), `sit` (Sara-Ahmed/SiT
 *   `FullPipline`), `mmc`: `{ student, teacher }` of a `MultiCropWrapper`/`FullPipline` (`backbone`, `head`,
 *   `head_recons`), the student wrapped in DDP (`module.`): `teacher.backbone.blocks.0…`,
 *   `student.module.backbone…`, `module.backbone…`, `backbone…`, or the released backbone-only files with
 *   plain timm names. The teacher is preferred. iBOT's `masked_embed` [1, D] becomes `mask_token` [1, 1, D].
 * - `mae` (facebookresearch/mae `models_mae.py`): the `model` dict: encoder keys with plain timm names,
 *   `decoder_*`, and the decoder's `mask_token` [1, 1, decoder_dim], which are ignored (an optional
 *   `model.` prefix is stripped).
 * - `mocov3` (facebookresearch/moco-v3 `main_moco.py`): `module.base_encoder.*` (its `head.*` projector
 *   ignored), `module.momentum_encoder.*` and `module.predictor.*` ignored.
 */
export const CHECKPOINT_FORMATS: Readonly<Record<WeightsFormat, FormatRule>> = {
  timm: { prefixes: [''], ignore: [/^head\./, /^fc_norm\./], aliases: {}, excluded: [] },
  dino: { prefixes: SSL_PREFIXES, ignore: SSL_IGNORE, aliases: {}, excluded: [] },
  ibot: { prefixes: SSL_PREFIXES, ignore: SSL_IGNORE, aliases: { masked_embed: 'mask_token' }, excluded: [] },
  sit: { prefixes: SSL_PREFIXES, ignore: SSL_IGNORE, aliases: {}, excluded: [] },
  mmc: { prefixes: SSL_PREFIXES, ignore: SSL_IGNORE, aliases: { masked_embed: 'mask_token' }, excluded: [] },
  mae: {
    prefixes: ['model.', ''],
    ignore: [/^(model\.)?(decoder_|decoder\.|mask_token$|head\.|fc_norm\.)/],
    aliases: {},
    excluded: ['mask_token'],
  },
  mocov3: {
    prefixes: ['module.base_encoder.', 'base_encoder.', ''],
    ignore: [/^(module\.)?(momentum_encoder|predictor)\./, /^(module\.)?(base_encoder\.)?head\./],
    aliases: {},
    excluded: [],
  },
};

/** How the keys of one checkpoint map onto a backbone. */
export interface KeyMapping {
  /** The backbone prefix that was selected (`''` for plain names). */
  prefix: string;
  /** Where heads are looked up: the prefix without a trailing `backbone.`. */
  branch: string;
  /** @mmc backbone name → checkpoint key. */
  backbone: Map<string, string>;
  /** For each requested head prefix: variable name → checkpoint key. */
  heads: Map<string, Map<string, string>>;
  /** Checkpoint keys outside the backbone, neither ignored nor claimed: unexpected. */
  unexpected: string[];
  /** Keys dropped by the format's rules. */
  ignored: string[];
}

/**
 * Maps checkpoint keys onto the backbone names `backboneNames` under the rules of `format`
 * (see {@link CHECKPOINT_FORMATS}); keys under `branch + head + '.'` for each of `headNames` are
 * collected per head instead of being ignored.
 *
 * @throws ValueError for an unknown format; FormatError when no candidate prefix holds a backbone key
 */
export function mapCheckpointKeys(
  fn: string,
  format: WeightsFormat,
  keys: string[],
  backboneNames: ReadonlySet<string>,
  headNames: readonly string[] = [],
): KeyMapping {
  const rule = CHECKPOINT_FORMATS[format];
  if (rule === undefined || !Object.prototype.hasOwnProperty.call(CHECKPOINT_FORMATS, format)) {
    throw new ValueError(`${fn}: options.format must be one of ${WEIGHTS_FORMATS.map((f) => `'${f}'`).join(', ')}, got ${JSON.stringify(format)}`);
  }
  const ourName = (rest: string): string | undefined => {
    const name = rule.aliases[rest] ?? rest;
    if (rule.aliases[rest] === undefined && rule.excluded.includes(rest)) return undefined;
    return backboneNames.has(name) ? name : undefined;
  };
  const keySet = new Set(keys);
  const anchor = ['patch_embed.proj.weight', 'cls_token', 'pos_embed', 'blocks.0.norm1.weight'];
  const prefix = rule.prefixes.find((p) => anchor.some((a) => keySet.has(p + a)));
  if (prefix === undefined) {
    const shown = keys.slice(0, 10).join(', ');
    throw new FormatError(
      `${fn}: no ViT backbone keys found for format '${format}' (looked for ${anchor.map((a) => `'${a}'`).join(', ')} under the prefixes ` +
        `${rule.prefixes.map((p) => `'${p}'`).join(', ')}); the file has ${keys.length} keys: ${shown}${keys.length > 10 ? ', …' : ''}`,
    );
  }
  // Heads live next to the backbone: `teacher.backbone.` → `teacher.head.…`; `module.base_encoder.` → `module.base_encoder.head.…`.
  const branch = prefix.endsWith('backbone.') ? prefix.slice(0, -'backbone.'.length) : prefix;
  const backbone = new Map<string, string>();
  const heads = new Map<string, Map<string, string>>(headNames.map((h) => [h, new Map<string, string>()]));
  const unexpected: string[] = [];
  const ignored: string[] = [];
  for (const key of keys) {
    const head = headNames.find((h) => key.startsWith(`${branch}${h}.`));
    if (head !== undefined) {
      heads.get(head)!.set(key.slice(branch.length + head.length + 1), key);
      continue;
    }
    const under = key.startsWith(prefix);
    const rest = under ? key.slice(prefix.length) : key;
    const name = under ? ourName(rest) : undefined;
    if (name !== undefined && !backbone.has(name)) backbone.set(name, key);
    else if (rule.ignore.some((re) => re.test(rest))) ignored.push(key);
    else unexpected.push(key);
  }
  return { prefix, branch, backbone, heads, unexpected, ignored };
}

/** `a, b, c, … (N in all)`: the first 10 names of a list, for error messages. */
export function listNames(names: string[], limit = 10): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown}, … (${names.length} in all)` : `${shown} (${names.length})`;
}
