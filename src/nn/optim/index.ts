export { Optimizer } from './optimizer.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { SGD, type SgdOptions } from './sgd.js';
