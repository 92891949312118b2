/** Stateless forms of the layers and losses, as torch.nn.functional. */
export { relu, sigmoid, tanh } from '../tensor/ops/elementwise.js';
export { conv2d } from '../tensor/ops/conv.js';
export { maxPool2d } from '../tensor/ops/pool.js';
export { batchNorm } from '../tensor/ops/norm.js';
export { linear } from '../tensor/ops/matmul.js';
export { dropout } from '../tensor/ops/dropout.js';
export { logSoftmax, softmax } from '../tensor/ops/softmax.js';
export { crossEntropy, nllLoss, mseLoss } from '../tensor/ops/loss.js';
