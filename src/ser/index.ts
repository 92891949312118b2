/** The speech-emotion-recognition application (browser-safe part; files and the CLI are in 'ser-ts/node'). */
export { EMOTIONS, EMOBOX_FOLDS, parseRavdessName, type Emotion, type RavdessClip } from './labels.js';
export { EmotionCNN, N_MFCC, N_FRAMES, DELTA_HALF_WIDTH, deltaKernel, type EmotionCNNOptions } from './model.js';
export { clipFeatures, clipMfcc, speechMfcc, TRIM_MARGIN_FRAMES, type FeatureOptions, wavFeatures, subset, checkNotSilent, FEATURE_SETTINGS, SAMPLE_RATE, HOP, WINDOW_SAMPLES } from './features.js';
export { EmotionRecognizer, EmotionEnsemble, clipWindows, type Recognizer, type ClipWindows, DEFAULT_PRIOR_SECONDS, secondsToFrames, type Prediction, type WindowPrediction, type PredictOptions, type Probabilities } from './predict.js';
export { encodeWeights, decodeWeights, type WeightsInfo } from './weights-file.js';
export { RECIPES, COMPONENTS, recipeByName, withoutComponents, checkRecipe, augmentOptions, type Recipe, type Component, type ClipSource, type Augmentation } from './recipe.js';
export { prepareRun, runTraining, type Corpus, type Waveforms, type RunOptions, type PreparedRun, type TrainedRun } from './pipeline.js';
export { train, predictLabels, saveCheckpoint, loadCheckpoint, trainSettings, keptEpoch, balancedClassWeights, type TrainData, type TrainOptions, type EpochStats } from './train.js';
export { argmax, argmaxRows, softmaxRows, clipLogits } from './scoring.js';
export { randomSplit, actorSplit, foldSplit, pickValidationActors, validationSplit, checkProtocol, protocolSplits, PROTOCOLS, type Split, type Protocol, type ProtocolName } from './splits.js';
export { evaluate, formatReport, type Report, type ClassMetrics } from './metrics.js';
export { renderReportHtml, confusionSvg, curvesSvg, type HtmlReportInput } from './report-html.js';
export { InputNorm, contentFrames, speakerNorms, enrolmentNorms, applySpeakerNorms } from './normalize.js';
export { applyCondition, conditionName, drawConditions, BENCHMARK_CONDITIONS, SEGMENTATION_CONDITIONS, type Condition, type ConditionContext, type NoiseKind } from './conditions.js';
export { augmentClip, noisyWaveform, checkAugment, c0PerDb, DEFAULT_AUGMENT, type AugmentOptions } from './augment.js';
export { exportOnnx, type OnnxExportOptions } from './onnx-export.js';
export { loadModelFrom, bundledWeightUrls, readSource, BUNDLED_FILES, type WeightsSource } from './load.js';
