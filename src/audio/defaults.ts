/**
 * librosa's defaults, which this front end reproduces and the model was trained with: the rate
 * `librosa.load` resamples to, and the STFT's frame length and hop.
 */
export const LIBROSA_SAMPLE_RATE = 22050;
export const DEFAULT_N_FFT = 2048;
export const DEFAULT_HOP = 512;

/**
 * The sample rates accepted, from files and for raw samples: 1 kHz (below it there is no speech
 * band to speak of) to 768 kHz (the highest rate audio interfaces offer). Within them resampling to
 * 22050 Hz costs time and memory in proportion to the output, whatever the rate.
 */
export const MIN_SAMPLE_RATE = 1000;
export const MAX_SAMPLE_RATE = 768_000;

/**
 * Float samples are nominally in [−1, 1]; over-range values are kept (as soundfile does) up to this
 * magnitude, 80 dB over full scale. Beyond it a sample is not audio, and squaring it for a power
 * spectrum would overflow float32 into Inf and NaN.
 */
export const MAX_FLOAT_SAMPLE = 1e4;
