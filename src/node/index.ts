/**
 * Node-only helpers: worker threads for the CPU kernels, file access, the RAVDESS dataset and
 * loading weights from disk. Import from 'ser-ts/node'; the main entry stays free of Node
 * built-ins so it also runs in browsers.
 */
export { enableThreads, disableThreads, ThreadError } from './threads.js';
export { writeFileAtomic } from './files.js';
export { scanRavdess, extractFeatures, noisyFeatures, speedFeatures, FeatureCache, DatasetError, subset, type DatasetItem, type Extracted, type NoiseOptions } from './dataset.js';
export { loadModel, BUNDLED_WEIGHTS, BUNDLED_ENSEMBLE, BUNDLED_SPEAKER_NORM_WEIGHTS } from './model-file.js';
export { randomSplit, actorSplit, foldSplit, pickValidationActors, validationSplit, type Split } from '../ser/splits.js';
