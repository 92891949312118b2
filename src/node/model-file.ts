/** Loading trained weights from disk (Node only). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SerTsError } from '../tensor/errors.js';
import { EmotionEnsemble, EmotionRecognizer } from '../ser/predict.js';

/** The weights shipped with the package: the EmotionCNN trained on all 24 RAVDESS actors. */
export const BUNDLED_WEIGHTS = fileURLToPath(new URL('../ser/weights/emotion-cnn.safetensors', import.meta.url));

/**
 * The same recipe trained again with other seeds: with BUNDLED_WEIGHTS, the bundled ensemble,
 * which `ser predict` uses by default (averaging seeds scores higher than any one of them; the
 * README measures it).
 */
export const BUNDLED_ENSEMBLE: readonly string[] = [
  BUNDLED_WEIGHTS,
  fileURLToPath(new URL('../ser/weights/emotion-cnn-seed1.safetensors', import.meta.url)),
];

/**
 * Shipped too: the same recipe with speaker normalisation (`--speaker-norm`), for speakers enrolled
 * with a few clips (`enroll`, `ser predict --enroll`).
 */
export const BUNDLED_SPEAKER_NORM_WEIGHTS = fileURLToPath(new URL('../ser/weights/emotion-cnn-speaker-norm.safetensors', import.meta.url));

/**
 * Loads an EmotionRecognizer from a safetensors file (default: the bundled weights), or, given a
 * list of files, an EmotionEnsemble that averages their probabilities.
 */
export function loadModel(path?: string): EmotionRecognizer;
export function loadModel(paths: readonly string[]): EmotionEnsemble;
export function loadModel(path: string | readonly string[] = BUNDLED_WEIGHTS): EmotionRecognizer | EmotionEnsemble {
  if (typeof path !== 'string') {
    if (!path.length) throw new SerTsError('loadModel: an ensemble needs at least one weights file');
    const members = path.map((p) => loadModel(p));
    try {
      return new EmotionEnsemble(members);
    } catch (e) {
      (e as Error).message = `${path.join(', ')}: ${(e as Error).message}`;
      throw e;
    }
  }
  if (!existsSync(path)) throw new SerTsError(`weights file '${path}' does not exist`);
  if (!statSync(path).isFile()) throw new SerTsError(`weights '${path}' is not a file (a folder?): give a .safetensors file`);
  try {
    return EmotionRecognizer.fromBytes(readFileSync(path));
  } catch (e) {
    const err = e as Error;
    err.message = `${path}: ${err.message}`;
    throw err;
  }
}
