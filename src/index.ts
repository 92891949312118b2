/**
 * ser-ts: a small deep-learning library with hand-written kernels, and speech emotion recognition
 * built on it. This entry runs in Node and in browsers; file-system helpers live in 'ser-ts/node'.
 */
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './nn/optim/index.js';
export * as audio from './audio/index.js';
export * as ser from './ser/index.js';
export { saveSafetensors, loadSafetensors, SafetensorsError, type Loaded, type SaveOptions } from './nn/safetensors.js';
export { loadPth, isTorchSave, PthError } from './nn/pth.js';
export { encodeOnnx, type OnnxGraph, type OnnxNode, type OnnxTensor } from './nn/onnx.js';
