/**
 * The weights file: safetensors holding an EmotionCNN state dict (PyTorch's key names), with string
 * metadata that says how to feed the model. This module is the one place that writes and reads
 * that schema:
 *
 *   kind           'ser-ts EmotionCNN'
 *   deltas         '0' | '1' | '2': Δ/ΔΔ input channels (absent: read from conv1's shape)
 *   input_mean, input_std              the input normaliser (JSON arrays of 40 numbers), if any
 *   speaker_norm   'true' when trained on speaker-normalised features; then
 *   speaker_prior_mean, speaker_prior_std   the training speakers' pooled raw statistics
 *   recipe, protocol, split, seed, epochs, emotions   how it was trained (for people and reports)
 *
 * A PyTorch `save_file(model.state_dict())` has no metadata and loads as the original recipe.
 */
import { StateDictError, ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import { EMOTIONS } from './labels.js';
import { EmotionCNN } from './model.js';
import { InputNorm } from './normalize.js';
import type { Recipe } from './recipe.js';

/** What a weights file says besides its tensors. */
export interface WeightsInfo {
  deltas: number;
  /** The input normalisation the model was trained with (null: none, as the original recipe). */
  normalizer: InputNorm | null;
  /** Trained on speaker-normalised features: predicting needs the speaker's statistics. */
  speakerNorm: boolean;
  /** With speakerNorm: the training speakers' pooled statistics that enrolment shrinks toward. */
  speakerPrior: InputNorm | null;
  /** How it was trained, when `ser train` (or `prepareRun`) wrote it. */
  training?: { recipe: Recipe; protocol: string; split: string; seed: number };
}

/** The bytes of a weights file for `model`. */
export function encodeWeights(model: EmotionCNN, info: Omit<WeightsInfo, 'deltas'>): Uint8Array {
  if (info.speakerNorm !== !!info.speakerPrior) throw new ValueError('encodeWeights: speaker-normalised weights need the training speakers\' statistics (speakerPrior), and only they');
  const t = info.training;
  return saveSafetensors(model.stateDict(), { metadata: {
    kind: 'ser-ts EmotionCNN',
    ...(t ? { protocol: t.protocol, split: t.split, recipe: JSON.stringify(t.recipe), epochs: String(t.recipe.epochs), seed: String(t.seed) } : {}),
    emotions: EMOTIONS.join(','), deltas: String(model.deltas), ...(info.normalizer?.toMetadata() ?? {}),
    ...(info.speakerPrior ? { speaker_norm: 'true', ...info.speakerPrior.toMetadata('speaker_prior') } : {}),
  } });
}

/** The model (eval mode) and what the file says about feeding it. */
export function decodeWeights(bytes: Uint8Array): { model: EmotionCNN; info: WeightsInfo } {
  const { tensors, metadata } = loadSafetensors(bytes);
  const deltas = deltasOf(tensors, metadata);
  const model = new EmotionCNN({ deltas });
  model.loadStateDict(tensors);
  // a weight that is NaN or infinite would make every answer NaN: refuse the file, naming the tensor
  for (const [name, t] of Object.entries(tensors)) {
    const v = t.toArray();
    const i = v.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) throw new StateDictError(`weights: ${name}[${i}] is ${v[i]}, not a finite number`);
  }
  model.eval();
  const speakerNorm = metadata.speaker_norm === 'true';
  const speakerPrior = InputNorm.fromMetadata(metadata, 'speaker_prior');
  let training: WeightsInfo['training'];
  if (metadata.recipe !== undefined) {
    try {
      training = { recipe: JSON.parse(metadata.recipe) as Recipe, protocol: metadata.protocol ?? '', split: metadata.split ?? '', seed: Number(metadata.seed ?? 0) };
    } catch {
      throw new ValueError('weights metadata: recipe is not JSON');
    }
  }
  return { model, info: { deltas, normalizer: InputNorm.fromMetadata(metadata), speakerNorm, speakerPrior, training } };
}

/**
 * The delta orders a weights file was trained with: its `deltas` metadata, else what conv1's input
 * channels say (a PyTorch state dict has no metadata).
 */
function deltasOf(tensors: Record<string, Tensor>, metadata: Record<string, string>): number {
  const inC = tensors['conv1.weight']?.shape[1];
  if (metadata.deltas === undefined) return inC !== undefined && inC >= 1 && inC <= 3 ? inC - 1 : 0; // else loadStateDict names the misfit
  const d = Number(metadata.deltas);
  if (!(d === 0 || d === 1 || d === 2)) throw new ValueError(`weights metadata: deltas must be 0, 1 or 2, got '${metadata.deltas}'`);
  if (inC !== undefined && inC !== 1 + d) throw new ValueError(`weights metadata says deltas ${d} (conv1 with ${1 + d} input channels), but conv1.weight has ${inC}`);
  return d;
}
