/**
 * The audio front end: from a .wav file's bytes to the MFCC matrix the model eats, matching
 * librosa number for number. Runs in Node and in browsers (no file access here).
 */
export { decodeWav, encodeWav, type DecodedAudio, type WavBitDepth } from './wav.js';
export { toMono, load, type LoadOptions } from './load.js';
export { resample, RESAMPLE_DEFAULTS, type ResampleOptions } from './resample.js';
export { RealFft, ComplexFft } from './fft.js';
export { hannWindow, spectrogram, spectrogramFrames, checkAudio, type StftOptions, type Spectrogram } from './spectrum.js';
export { hzToMel, melToHz, melFilterbank, applyMel, applyMelFrames, type MelOptions, type MelFilterbank } from './mel.js';
export { powerToDbArray, type DbOptions } from './db.js';
export { dctMatrix, dctRows, dctFrames } from './dct.js';
export { mfcc, mfccArray, fixFrames, frameWindow, type MfccOptions } from './mfcc.js';
export { LIBROSA_SAMPLE_RATE, DEFAULT_HOP, DEFAULT_N_FFT } from './defaults.js';
export { stft, powerToDb, dct } from './tensors.js';
export { voiceActivity, hasSpeech, speechSpan, type VadOptions, type VoiceActivity } from './vad.js';
export { AudioError, WavError } from './errors.js';
export { lowPass, highPass, bandLimit, telephone, muLaw8, roomImpulse, convolve, reverb, activePower, whiteNoise, pinkNoise, babble, addNoise, gain16, dcOffset, tilt } from './degrade.js';
