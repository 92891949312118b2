/** The speech-emotion-recognition application (browser-safe part; files and the CLI are in 'ser-ts/node'). */
export { EMOTIONS, EMOBOX_FOLDS, parseRavdessName, type Emotion, type RavdessClip } from './labels.js';
export { EmotionCNN, N_MFCC, N_FRAMES, DELTA_HALF_WIDTH, deltaKernel, type EmotionCNNOptions } from './model.js';
export { clipFeatures, wavFeatures, checkNotSilent, FEATURE_SETTINGS, SAMPLE_RATE, WINDOW_SAMPLES } from './features.js';
export { EmotionRecognizer, EmotionEnsemble, clipWindows, type Recognizer, type ClipWindows, DEFAULT_PRIOR_SECONDS, secondsToFrames, type Prediction, type WindowPrediction, type PredictOptions, type Probabilities } from './predict.js';
export { train, predictLabels, saveCheckpoint, loadCheckpoint, type TrainData, type TrainOptions, type EpochStats } from './train.js';
export { evaluate, formatReport, type Report, type ClassMetrics } from './metrics.js';
export { renderReportHtml, confusionSvg, curvesSvg, type HtmlReportInput } from './report-html.js';
export { keptEpoch, balancedClassWeights } from './train.js';
export { InputNorm, contentFrames, speakerNorms, enrolmentNorms, applySpeakerNorms } from './normalize.js';
export { augmentClip, noisyWaveform, checkAugment, c0PerDb, DEFAULT_AUGMENT, type AugmentOptions } from './augment.js';
export { RECIPES, COMPONENTS, recipeByName, withoutComponents, type Recipe, type Component } from './recipe.js';
export { loadModelFrom, bundledWeightUrls, readSource, BUNDLED_FILES, type WeightsSource } from './load.js';
