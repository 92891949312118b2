import { SerTsError } from '../tensor/errors.js';

/** Audio that cannot be used: empty, silent where sound is needed, non-finite, or an impossible rate. */
export class AudioError extends SerTsError {}

/** Bytes that are not a WAV file this library can read, named by what is wrong with them. */
export class WavError extends AudioError {}
