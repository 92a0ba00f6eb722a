import type * as tf from '@tensorflow/tfjs';

/**
 * `{ name: v }` → `{ 'prefix.name': v }`: how recipes give every variable of a module a unique,
 * checkpoint-stable name (`backbone.blocks.0.attn.qkv.weight`, `teacher.patch.mlp.0.weight`).
 *
 * @example
 * ```ts
 * variables: () => ({ ...prefixVariables('backbone', vit.variables), ...prefixVariables('head', head.variables) })
 * ```
 */
export function prefixVariables(prefix: string, vars: Record<string, tf.Variable>): Record<string, tf.Variable> {
  return Object.fromEntries(Object.entries(vars).map(([n, v]) => [`${prefix}.${n}`, v]));
}
