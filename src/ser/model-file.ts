/** Loading trained weights from disk (Node only). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SerError } from '../tensor/errors.js';
import { EmotionRecognizer } from './predict.js';

/** The weights shipped with the package: the EmotionCNN trained on all 24 RAVDESS actors. */
export const BUNDLED_WEIGHTS = fileURLToPath(new URL('./weights/emotion-cnn.safetensors', import.meta.url));

/**
 * Shipped too: the same recipe with speaker normalisation (`--speaker-norm`), for speakers enrolled
 * with a few clips (`enroll`, `ser predict --enroll`).
 */
export const BUNDLED_SPEAKER_NORM_WEIGHTS = fileURLToPath(new URL('./weights/emotion-cnn-speaker-norm.safetensors', import.meta.url));

/** Loads an EmotionRecognizer from a safetensors file (default: the bundled weights). */
export function loadModel(path: string = BUNDLED_WEIGHTS): EmotionRecognizer {
  if (!existsSync(path)) throw new SerError(`weights file '${path}' does not exist`);
  try {
    return EmotionRecognizer.fromSafetensors(readFileSync(path));
  } catch (e) {
    const err = e as Error;
    err.message = `${path}: ${err.message}`;
    throw err;
  }
}
