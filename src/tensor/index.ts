export { Tensor, DisposedError, tensor, scalar, zeros, ones, full, fullLike, type TensorOptions } from './tensor.js';
export { tidy, keep, memory, madeInScope, type MemoryInfo } from './memory.js';
export { noGrad, isGradEnabled } from './autograd.js';
export {
  setBackend, getBackend, registerBackend, listBackends, backendByName,
  type Backend, type Handle, type UnaryOp, type BinaryOp, type ReduceOp,
  type Conv2dGeometry, type Pool2dGeometry, type AdamHyper, type SgdHyper,
} from './backend.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export { SerTsError, SerError, ShapeError, ValueError, StateDictError, GradError } from './errors.js';
export { type Shape, sizeOf, broadcastShapes } from './shape.js';
export * as ops from './ops/index.js';
export { rand, randn } from './factories.js';
export { setSimd, simdEnabled, simdAvailable, setRelaxedSimd, relaxedSimdEnabled, relaxedSimdAvailable } from '../wasm/simd.js';
