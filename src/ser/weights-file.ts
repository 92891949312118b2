/**
 * The weights file: safetensors holding an EmotionCNN state dict (PyTorch's key names), with string
 * metadata that says how to feed the model. This module is the one place that writes and reads
 * that schema:
 *
 *   kind           'ser-ts EmotionCNN'
 *   deltas         '0' | '1' | '2': Δ/ΔΔ input channels (absent: read from conv1's shape)
 *   trim           'speech' when trained on clips cut to their speech (`clipFeatures`' trim); absent: whole clips
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
import { isTorchSave, loadPth } from '../nn/pth.js';
import { EMOTIONS } from './labels.js';
import { EmotionCNN } from './model.js';
import { InputNorm } from './normalize.js';
import type { Recipe } from './recipe.js';

/** What a weights file says besides its tensors. */
export interface WeightsInfo {
  deltas: number;
  /** Trained on clips cut to their speech: predicting cuts every clip the same way. */
  trim: boolean;
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
    emotions: EMOTIONS.join(','), deltas: String(model.deltas), ...(info.trim ? { trim: 'speech' } : {}), ...(info.normalizer?.toMetadata() ?? {}),
    ...(info.speakerPrior ? { speaker_norm: 'true', ...info.speakerPrior.toMetadata('speaker_prior') } : {}),
  } });
}

/**
 * The model (eval mode) and what the file says about feeding it. The format is told from the bytes:
 * safetensors as `ser train` writes it, or a PyTorch `torch.save` of a state dict (`.pth`), whose
 * keys may be the model's attribute names, an nn.Sequential's indices, or either behind
 * DataParallel's `module.` prefix; a .pth carries no metadata, so it loads as the original recipe.
 */
export function decodeWeights(bytes: Uint8Array): { model: EmotionCNN; info: WeightsInfo } {
  const pth = isTorchSave(bytes);
  const { tensors: raw, metadata } = pth ? { tensors: loadPth(bytes), metadata: Object.create(null) as Record<string, string> } : loadSafetensors(bytes);
  const deltas = pth ? deltasOfFirstConv(raw) : deltasOf(raw, metadata);
  const model = new EmotionCNN({ deltas });
  const tensors = pth ? toModelKeys(raw, model) : raw;
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
  if (metadata.trim !== undefined && metadata.trim !== 'speech') throw new ValueError(`weights metadata: trim must be 'speech' or absent, got '${metadata.trim}'`);
  const trim = metadata.trim === 'speech';
  return { model, info: { deltas, trim, normalizer: InputNorm.fromMetadata(metadata), speakerNorm, speakerPrior, training } };
}

/** Δ orders from the input channels of the first 4-D tensor (conv1's weight, whatever its key). */
function deltasOfFirstConv(tensors: Record<string, Tensor>): number {
  const first = Object.values(tensors).find((t) => t.shape.length === 4);
  const inC = first?.shape[1];
  return inC !== undefined && inC >= 1 && inC <= 3 ? inC - 1 : 0;
}

const sameShape = (a: Tensor, b: Tensor) => (a.size === 1 && b.size === 1) || (a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]));

/**
 * A state dict's tensors under `model`'s keys: as they are when the names match (after dropping a
 * `module.` prefix), else position by position when every shape agrees in order (an nn.Sequential
 * of the same layers), else a StateDictError that shows where the two part.
 */
export function toModelKeys(tensors: Record<string, Tensor>, model: EmotionCNN): Record<string, Tensor> {
  let entries = Object.entries(tensors);
  if (entries.length && entries.every(([k]) => k.startsWith('module.'))) entries = entries.map(([k, t]) => [k.slice('module.'.length), t]);
  const ours = Object.entries(model.stateDict());
  const byName = Object.fromEntries(entries);
  if (ours.every(([k]) => Object.hasOwn(byName, k)) && entries.length === ours.length) return byName;
  const out: Record<string, Tensor> = Object.create(null);
  for (let i = 0; i < Math.max(ours.length, entries.length); i++) {
    const [key, want] = ours[i] ?? [];
    const [theirKey, got] = entries[i] ?? [];
    if (!key || !theirKey || !sameShape(want!, got!)) {
      const show = (k?: string, t?: Tensor) => (k ? `${k} [${t!.shape.join(', ')}]` : 'nothing');
      throw new StateDictError(`the file's ${entries.length} tensors do not map onto EmotionCNN's ${ours.length} by name or by order: tensor ${i + 1} is ${show(theirKey, got)}, EmotionCNN expects ${show(key, want)}`);
    }
    out[key] = got!;
  }
  return out;
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
