/**
 * librosa's defaults, which this front end reproduces and the model was trained with: the rate
 * `librosa.load` resamples to, and the STFT's frame length and hop.
 */
export const LIBROSA_SAMPLE_RATE = 22050;
export const DEFAULT_N_FFT = 2048;
export const DEFAULT_HOP = 512;
