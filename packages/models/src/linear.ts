import * as tf from '@tensorflow/tfjs';

/**
 * Fully connected layer in tfjs' fast layout: y = x · W + b with W stored `[in, out]` (the
 * transpose of torch's `nn.Linear.weight`, see `toTimmLayout`). Any leading shape: x is
 * reshaped to 2-D, multiplied with a plain matMul (no transposeA/transposeB, which wasm runs
 * several times slower), and reshaped back. Internal building block (no validation).
 *
 * @param x `[..., in]`
 * @param weight `[in, out]`
 * @param bias `[out]` or undefined
 * @returns `[..., out]`
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [inDim, outDim] = weight.shape;
    const lead = x.shape.slice(0, -1);
    let y = tf.matMul(x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inDim]), weight as tf.Tensor2D) as tf.Tensor;
    if (bias !== undefined) y = tf.add(y, bias);
    return x.rank === 2 ? y : tf.reshape(y, [...lead, outDim]);
  });
}
