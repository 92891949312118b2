import type { Backend } from '../backend.js';
import { batchNormBackward, batchNormInfer, batchNormTrain } from './batchnorm.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dMaxPool2 } from './conv.js';
import { affine, binary, broadcastTo, powScalar, unary } from './elementwise.js';
import { matmul } from './gemm.js';
import { concat, permute, reduce, slice } from './layout.js';
import { adamStep, sgdStep } from './optim.js';
import { maxPool2d, maxPool2dBackward, maxPool2dInfer } from './pool.js';
import { alloc, shareable } from './parallel.js';

type F = Float32Array;

/** The reference backend: hand-written kernels on Float32Array; handles are the arrays themselves. */
export function createCpuBackend(): Backend {
  return {
    name: 'cpu',
    fromArray: (data) => shareable(data as F),
    zeros: (size) => alloc(size),
    fill: (size, value) => alloc(size).fill(value),
    read: (h, size) => (h as F).slice(0, size),
    unary: (op, x, size) => unary(op, x as F, size),
    binary: (op, a, as, b, bs, os) => binary(op, a as F, as, b as F, bs, os),
    affine: (x, size, scale, shift) => affine(x as F, size, scale, shift),
    powScalar: (x, size, p) => powScalar(x as F, size, p),
    reduce: (op, x, shape, axes) => reduce(op, x as F, shape, axes),
    broadcastTo: (x, shape, outShape) => broadcastTo(x as F, shape, outShape),
    permute: (x, shape, perm) => permute(x as F, shape, perm),
    slice: (x, shape, axis, start, len) => slice(x as F, shape, axis, start, len),
    concat: (xs, shapes, axis) => concat(xs as F[], shapes, axis),
    matmul: (a, b, batch, m, k, n, ta, tb) => matmul(a as F, b as F, batch, m, k, n, ta, tb),
    conv2d: (x, w, bias, g) => conv2d(x as F, w as F, bias as F | null, g),
    conv2dMaxPool2: (x, w, bias, g, relu) => conv2dMaxPool2(x as F, w as F, bias as F | null, g, relu),
    conv2dBackwardInput: (gy, w, g) => conv2dBackwardInput(gy as F, w as F, g),
    conv2dBackwardWeight: (gy, x, g) => conv2dBackwardWeight(gy as F, x as F, g),
    maxPool2d: (x, g) => maxPool2d(x as F, g),
    maxPool2dInfer: (x, g) => maxPool2dInfer(x as F, g),
    maxPool2dBackward: (gy, argmax, g) => maxPool2dBackward(gy as F, argmax as Int32Array, g),
    batchNormTrain: (x, gamma, beta, n, c, hw, eps) => batchNormTrain(x as F, gamma as F | null, beta as F | null, n, c, hw, eps),
    batchNormBackward: (gy, x, gamma, mean, v, n, c, hw, eps) =>
      batchNormBackward(gy as F, x as F, gamma as F | null, mean as F, v as F, n, c, hw, eps),
    batchNormInfer: (x, gamma, beta, mean, v, n, c, hw, eps) =>
      batchNormInfer(x as F, gamma as F | null, beta as F | null, mean as F, v as F, n, c, hw, eps),
    adamStep: (p, g, m, v, size, h) => adamStep(p as F, g as F, m as F, v as F, size, h),
    sgdStep: (p, g, buf, size, h) => sgdStep(p as F, g as F, buf as F | null, size, h),
  };
}
