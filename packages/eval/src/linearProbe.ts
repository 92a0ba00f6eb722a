import * as tf from '@tensorflow/tfjs';
import { assertInRange, assertInteger, assertPositive, createRng, formatShape, ShapeError, ValueError, type Rng } from '@mmc/core';
import { asFloatTensor, toHostArray, type NestedNumbers, type NdArrayLike } from './ndarray.js';

/** Features `[N, D]`: a tensor, a `{ data, shape }` array or a nested array. */
export type FeatureInput = tf.Tensor | NdArrayLike | NestedNumbers;
/** Integer class labels `[N]`: a tensor, a `{ data, shape }` array, a typed array or a plain array. */
export type LabelInput = tf.Tensor | NdArrayLike | ArrayLike<number>;

/** Options of {@link linearProbe}. */
export interface LinearProbeOptions {
  trainFeatures: FeatureInput;
  trainLabels: LabelInput;
  testFeatures: FeatureInput;
  /** When given, `top1` (fraction of correct test predictions) is returned. */
  testLabels?: LabelInput;
  numClasses: number;
  /** Passes over the training rows (default 100). */
  epochs?: number;
  /** AdamW learning rate (default 1e-3, PyTorch's Adam default). */
  lr?: number;
  /** Decoupled weight decay on the weights, not the bias (default 1e-2, PyTorch AdamW's). */
  weightDecay?: number;
  /** Mini-batch size (default 256; the last batch of an epoch may be smaller). */
  batchSize?: number;
  /** Fraction of the training rows held out for early stopping (default 0.1; 0 = none). */
  valFraction?: number;
  /** Epochs without a lower validation loss before stopping (default 10). */
  patience?: number;
  /** Seed of the split and the shuffles (default 0); ignored when `rng` is given. */
  seed?: number;
  rng?: Rng;
  /** Adam β1, β2 (default [0.9, 0.999]) and ε (default 1e-8). */
  betas?: [number, number];
  eps?: number;
  /** Called after every epoch. */
  onEpoch?: (info: { epoch: number; trainLoss: number; valLoss?: number; valAccuracy?: number }) => void;
}

/** Result of {@link linearProbe}. */
export interface LinearProbeResult {
  /** argmax class of every test row. */
  predictions: Int32Array;
  /** Fraction of test rows predicted correctly (when `testLabels` is given). */
  top1?: number;
  /** `[D, C]` weights of the best epoch (lowest validation loss), or the last without validation. */
  weights: tf.Tensor2D;
  /** `[C]` bias. */
  bias: tf.Tensor1D;
  history: { trainLoss: number[]; valLoss: number[]; valAccuracy: number[] };
  /** Epoch (0-based) whose weights are returned. */
  bestEpoch: number;
  /** Epochs actually run (early stopping may end before `epochs`). */
  epochsRun: number;
}

/**
 * Linear probe: multinomial logistic regression on frozen features, the standard linear
 * evaluation of self-supervised features (DINO `eval_linear.py` trains one linear layer with
 * cross-entropy; here with AdamW and early stopping instead of SGD + cosine schedule, so that no
 * learning-rate sweep is needed on small data).
 *
 *     logits = X·W + b                         W [D, C] and b [C], both initialised to 0
 *     L = −(1/B) Σ_i log softmax(logits_i)[y_i]
 *     ∂L/∂logits = (softmax − onehot(y)) / B,  ∂L/∂W = Xᵀ·∂L/∂logits,  ∂L/∂b = Σ_i ∂L/∂logits_i
 *
 * The gradient is the closed form above (no autodiff). AdamW step, PyTorch `torch.optim.AdamW`
 * order (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), t = 1, 2, …:
 *
 *     W ← W − lr·wd·W                          (weights only; the bias is not decayed, timm's rule)
 *     m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *     θ ← θ − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 *
 * A seeded random `valFraction` of the training rows (⌊valFraction·N⌋, none when that is 0) is
 * held out; the rest is reshuffled every epoch. After each epoch the validation loss is
 * measured; training stops after `patience` epochs without a strictly lower one and the weights
 * of the best epoch are restored. The problem is convex, so the zero initialisation loses
 * nothing and makes runs reproducible. The training loss of an epoch is the mean of its
 * mini-batch losses weighted by batch size (measured before each step).
 *
 * @param options `{ trainFeatures [N, D], trainLabels [N], testFeatures [M, D], testLabels?,
 *   numClasses, epochs = 100, lr = 1e-3, weightDecay = 1e-2, batchSize = 256,
 *   valFraction = 0.1, patience = 10, seed = 0 }`
 * @returns `{ predictions, top1?, weights, bias, history, bestEpoch, epochsRun }`; the caller
 *   disposes `weights` and `bias`.
 * @example
 * ```ts
 * const probe = linearProbe({ trainFeatures, trainLabels, testFeatures, testLabels, numClasses: 10 });
 * console.log(probe.top1);
 * tf.dispose([probe.weights, probe.bias]);
 * ```
 */
export function linearProbe(options: LinearProbeOptions): LinearProbeResult {
  const fn = 'linearProbe';
  if (options == null || typeof options !== 'object') {
    throw new ValueError(`${fn}: options must be an object { trainFeatures, trainLabels, testFeatures, numClasses, … }, got ${String(options)}`);
  }
  const {
    numClasses,
    epochs = 100,
    lr = 1e-3,
    weightDecay = 1e-2,
    batchSize = 256,
    valFraction = 0.1,
    patience = 10,
    seed = 0,
    betas = [0.9, 0.999],
    eps = 1e-8,
    onEpoch,
  } = options;
  assertInteger(fn, 'numClasses', numClasses, 2);
  assertInteger(fn, 'epochs', epochs, 1);
  assertPositive(fn, 'lr', lr);
  assertInRange(fn, 'weightDecay', weightDecay, 0, Infinity, 'high');
  assertInteger(fn, 'batchSize', batchSize, 1);
  assertInRange(fn, 'valFraction', valFraction, 0, 1, 'high');
  assertInteger(fn, 'patience', patience, 1);
  if (!Array.isArray(betas) || betas.length !== 2) throw new ValueError(`${fn}: betas must be [β1, β2], got ${String(betas)}`);
  assertInRange(fn, 'betas[0]', betas[0], 0, 1, 'high');
  assertInRange(fn, 'betas[1]', betas[1], 0, 1, 'high');
  assertPositive(fn, 'eps', eps);
  const rng = options.rng ?? createRng(seed);

  const owned: tf.Tensor[] = [];
  const take = (arg: string, x: unknown): tf.Tensor2D => {
    const { tensor, owned: mine } = asFloatTensor(fn, arg, x, 2, '[N, D]');
    if (mine) owned.push(tensor);
    return tensor as tf.Tensor2D;
  };
  const labelsOf = (arg: string, x: unknown, n: number): Int32Array => {
    const host = toHostArray(fn, arg, x);
    if (host.shape.length !== 1 || host.data.length !== n) {
      throw new ShapeError(`${fn}: ${arg} must have shape [${n}] (one label per feature row), got ${formatShape(host.shape)}`);
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = host.data[i];
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new ValueError(`${fn}: ${arg} must hold integer class ids in [0, ${numClasses - 1}], got ${v} at index ${i}`);
      }
      out[i] = v;
    }
    return out;
  };

  const state: tf.Variable[] = [];
  try {
    const Xall = take('trainFeatures', options.trainFeatures);
    const Xtest = take('testFeatures', options.testFeatures);
    const [N, D] = Xall.shape;
    if (N < 1 || D < 1) throw new ShapeError(`${fn}: trainFeatures must have shape [N >= 1, D >= 1], got ${formatShape(Xall.shape)}`);
    if (Xtest.shape[1] !== D) {
      throw new ShapeError(`${fn}: testFeatures must have shape [M, ${D}] (D like trainFeatures ${formatShape(Xall.shape)}), got ${formatShape(Xtest.shape)}`);
    }
    const yAll = labelsOf('trainLabels', options.trainLabels, N);
    const yTest = options.testLabels === undefined ? undefined : labelsOf('testLabels', options.testLabels, Xtest.shape[0]);

    // Seeded split.
    const order = rng.shuffle(Array.from({ length: N }, (_, i) => i));
    const nVal = Math.floor(valFraction * N);
    if (nVal >= N) throw new ValueError(`${fn}: valFraction=${valFraction} leaves no training row out of N=${N}`);
    const valIdx = order.slice(0, nVal);
    const trainIdx = order.slice(nVal);
    const nTrain = trainIdx.length;
    const C = numClasses;

    const oneHot = (idx: number[]) => tf.cast(tf.oneHot(tf.tensor1d(idx.map((i) => yAll[i]), 'int32'), C), 'float32') as tf.Tensor2D;
    const Xtr = tf.tidy(() => tf.gather(Xall, tf.tensor1d(trainIdx, 'int32')) as tf.Tensor2D);
    const Ytr = tf.tidy(() => oneHot(trainIdx));
    owned.push(Xtr, Ytr);
    let Xval: tf.Tensor2D | undefined;
    let Yval: tf.Tensor2D | undefined;
    if (nVal > 0) {
      Xval = tf.tidy(() => tf.gather(Xall, tf.tensor1d(valIdx, 'int32')) as tf.Tensor2D);
      Yval = tf.tidy(() => oneHot(valIdx));
      owned.push(Xval, Yval);
    }

    const zeros = (shape: number[]) => tf.tidy(() => tf.variable(tf.zeros(shape), false));
    const W = zeros([D, C]);
    const b = zeros([C]);
    const mW = zeros([D, C]);
    const vW = zeros([D, C]);
    const mb = zeros([C]);
    const vb = zeros([C]);
    const lossSum = zeros([]);
    state.push(W, b, mW, vW, mb, vb, lossSum);
    const [beta1, beta2] = betas;

    const meanCE = (logits: tf.Tensor, Y: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(Y, tf.logSoftmax(logits)), 1)));
    const history = { trainLoss: [] as number[], valLoss: [] as number[], valAccuracy: [] as number[] };
    let best = { loss: Infinity, epoch: -1, W: null as tf.Tensor | null, b: null as tf.Tensor | null };
    let step = 0;
    let wait = 0;
    let epochsRun = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const perm = rng.shuffle(Array.from({ length: nTrain }, (_, i) => i));
      tf.tidy(() => lossSum.assign(tf.scalar(0)));
      for (let s0 = 0; s0 < nTrain; s0 += batchSize) {
        const rows = perm.slice(s0, s0 + batchSize);
        const B = rows.length;
        step += 1;
        const bc1 = 1 - beta1 ** step;
        const bc2 = 1 - beta2 ** step;
        tf.tidy(() => {
          const idx = tf.tensor1d(rows, 'int32');
          const X = B === nTrain ? Xtr : tf.gather(Xtr, idx);
          const Y = B === nTrain ? Ytr : tf.gather(Ytr, idx);
          const logits = tf.add(tf.matMul(X, W), b);
          lossSum.assign(tf.add(lossSum, tf.mul(meanCE(logits, Y), B)));
          const G = tf.div(tf.sub(tf.softmax(logits), Y), B); // [B, C]
          const gW = tf.matMul(tf.transpose(X), G);
          const gb = tf.sum(G, 0);
          const adam = (p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable, decay: boolean) => {
            const base = decay && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
            m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
            v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
            const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
            p.assign(tf.sub(base, tf.mul(tf.div(tf.div(m, bc1), denom), lr)));
          };
          adam(W, gW, mW, vW, true);
          adam(b, gb, mb, vb, false);
        });
      }
      epochsRun = epoch + 1;
      const trainLoss = lossSum.dataSync()[0] / nTrain;
      history.trainLoss.push(trainLoss);
      if (Xval && Yval) {
        const [vl, va] = tf.tidy(() => {
          const logits = tf.add(tf.matMul(Xval as tf.Tensor, W), b);
          const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(Yval as tf.Tensor, 1)), 'float32'));
          return [meanCE(logits, Yval as tf.Tensor), acc];
        });
        const valLoss = vl.dataSync()[0];
        const valAccuracy = va.dataSync()[0];
        tf.dispose([vl, va]);
        history.valLoss.push(valLoss);
        history.valAccuracy.push(valAccuracy);
        onEpoch?.({ epoch, trainLoss, valLoss, valAccuracy });
        if (valLoss < best.loss) {
          tf.dispose([best.W, best.b].filter((t): t is tf.Tensor => t !== null));
          best = { loss: valLoss, epoch, W: tf.clone(W), b: tf.clone(b) };
          wait = 0;
        } else if (++wait >= patience) {
          break;
        }
      } else {
        onEpoch?.({ epoch, trainLoss });
      }
    }
    let weights: tf.Tensor2D;
    let bias: tf.Tensor1D;
    let bestEpoch: number;
    if (best.W && best.b) {
      weights = best.W as tf.Tensor2D;
      bias = best.b as tf.Tensor1D;
      bestEpoch = best.epoch;
    } else {
      weights = tf.clone(W) as tf.Tensor2D;
      bias = tf.clone(b) as tf.Tensor1D;
      bestEpoch = epochsRun - 1;
    }
    const predTensor = tf.tidy(() => tf.argMax(tf.add(tf.matMul(Xtest, weights), bias), 1));
    const predictions = Int32Array.from(predTensor.dataSync());
    predTensor.dispose();
    let top1: number | undefined;
    if (yTest) {
      let correct = 0;
      for (let i = 0; i < yTest.length; i++) if (predictions[i] === yTest[i]) correct++;
      top1 = yTest.length === 0 ? NaN : correct / yTest.length;
    }
    return { predictions, ...(top1 === undefined ? {} : { top1 }), weights, bias, history, bestEpoch, epochsRun };
  } finally {
    tf.dispose(owned);
    tf.dispose(state);
  }
}
