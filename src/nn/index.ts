export { Module } from './module.js';
export { Conv2d, BatchNorm2d, MaxPool2d, Linear, Dropout, ReLU, Flatten, Sequential } from './layers.js';
export type { Conv2dOptions, BatchNormOptions, LinearOptions } from './layers.js';
export { WeightAverage, updateBatchNorm } from './swa.js';
export * as init from './init.js';
export * as functional from './functional.js';
