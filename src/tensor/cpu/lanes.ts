/** Every lane function by name, for worker threads to look up what the caller asked for. */
import { conv2dBackwardInputLane, conv2dBackwardWeightLane, conv2dLane, conv2dMaxPool2Lane } from './conv.js';
import { batchNormBackwardLane, batchNormInferLane, batchNormTrainLane } from './batchnorm.js';
import { matmulLane } from './gemm.js';
import { maxPool2dBackwardLane, maxPool2dInferLane, maxPool2dLane } from './pool.js';
import type { LaneFunction } from './parallel.js';

export const laneKernels: Record<string, LaneFunction> = {
  conv2d: conv2dLane,
  conv2dMaxPool2: conv2dMaxPool2Lane,
  conv2dBackwardInput: conv2dBackwardInputLane,
  conv2dBackwardWeight: conv2dBackwardWeightLane,
  matmul: matmulLane,
  batchNormTrain: batchNormTrainLane,
  batchNormInfer: batchNormInferLane,
  batchNormBackward: batchNormBackwardLane,
  maxPool2d: maxPool2dLane,
  maxPool2dInfer: maxPool2dInferLane,
  maxPool2dBackward: maxPool2dBackwardLane,
};
