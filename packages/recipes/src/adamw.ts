import * as tf from '@tensorflow/tfjs';
import { assertFinite, assertInRange, ValueError } from '@mmc/core';

/** Options of {@link adamw}. */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /**
   * Which variables get weight decay. Default: DINO's `get_params_groups` rule — none for biases
   * and other 1-D parameters (norm scales, tokens with a single axis) — applied by name and rank.
   */
  decay?: (name: string, v: tf.Variable) => boolean;
}

/** Optimizer state, exposed so that checkpoints can save and restore it exactly. */
export interface AdamWState {
  step: number;
  m: Record<string, tf.Variable>;
  v: Record<string, tf.Variable>;
}

/** AdamW (Loshchilov & Hutter) with per-step learning rate and weight decay, as PyTorch's `torch.optim.AdamW`. */
export interface AdamW {
  /**
   * One update: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ·(1 − lr·wd) − lr·m̂/(√v̂ + eps),
   * with bias corrections m̂ = m/(1−β1^t), v̂ = v/(1−β2^t) (t counts from 1).
   */
  apply(grads: Record<string, tf.Tensor>, variables: Record<string, tf.Variable>, lr: number, weightDecay: number): void;
  state: AdamWState;
  dispose(): void;
}

const defaultDecay = (name: string, v: tf.Variable) => !(name.endsWith('.bias') || v.rank <= 1);

/**
 * Creates an AdamW optimizer whose learning rate and weight decay are given per step (the trainer
 * feeds them from cosine schedules). Moments are created lazily per variable name.
 *
 * @example
 * ```ts
 * const opt = adamw();
 * const { grads } = tf.variableGrads(() => loss(), Object.values(vars));
 * opt.apply(gradsByName, vars, 5e-4, 0.04);
 * ```
 */
export function adamw(opts: AdamWOptions = {}): AdamW {
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, decay = defaultDecay } = opts;
  assertInRange('adamw', 'beta1', beta1, 0, 1, 'high');
  assertInRange('adamw', 'beta2', beta2, 0, 1, 'high');
  assertFinite('adamw', 'eps', eps);
  const state: AdamWState = { step: 0, m: {}, v: {} };
  return {
    state,
    apply(grads, variables, lr, weightDecay) {
      assertFinite('adamw.apply', 'lr', lr);
      assertFinite('adamw.apply', 'weightDecay', weightDecay);
      state.step += 1;
      const t = state.step;
      const bc1 = 1 - beta1 ** t;
      const bc2 = 1 - beta2 ** t;
      for (const [name, g] of Object.entries(grads)) {
        const variable = variables[name];
        if (variable == null) throw new ValueError(`adamw.apply: gradient for unknown variable '${name}'`);
        if (!state.m[name]) {
          state.m[name] = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
          state.v[name] = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        }
        const m = state.m[name];
        const v = state.v[name];
        tf.tidy(() => {
          const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
          const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
          m.assign(mNew);
          v.assign(vNew);
          const denom = tf.add(tf.sqrt(tf.div(vNew, bc2)), eps);
          const update = tf.div(tf.div(mNew, bc1), denom);
          const wd = decay(name, variable) ? weightDecay : 0;
          const decayed = wd !== 0 ? tf.mul(variable, 1 - lr * wd) : variable;
          variable.assign(tf.sub(decayed, tf.mul(update, lr)));
        });
      }
    },
    dispose() {
      tf.dispose([...Object.values(state.m), ...Object.values(state.v)]);
      state.m = {};
      state.v = {};
    },
  };
}
