/**
 * Node-only helpers: worker threads for the CPU kernels, file access, the RAVDESS dataset, loading
 * weights from disk, training runs with checkpoints and reports, and the `ser` command. Import from
 * 'ser-ts/node'; the main entry stays free of Node built-ins so it also runs in browsers.
 */
export { enableThreads, disableThreads, ThreadError } from './threads.js';
export { writeFileAtomic, removeStaleTemps } from './files.js';
export { scanRavdess, extractFeatures, noisyFeatures, degradedFeatures, WaveformPool, FeatureCache, DatasetError, subset, type DatasetItem, type Extracted, type NoiseOptions } from './dataset.js';
export { loadModel, BUNDLED_WEIGHTS, BUNDLED_ENSEMBLE, BUNDLED_SPEAKER_NORM_WEIGHTS } from './model-file.js';
export { runRobustness, formatRobustness, splitWeights, type RobustnessOptions, type RobustnessReport } from './robustness.js';
export { runExperiment, loadRavdess, type ExperimentOptions, type SplitResult } from './experiment.js';
// kept here too for code written against earlier releases (they are browser-safe, in 'ser-ts' as ser.*)
export { randomSplit, actorSplit, foldSplit, pickValidationActors, validationSplit, type Split } from '../ser/splits.js';
