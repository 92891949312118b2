/**
 * Browser-only helpers, beside the main entry (which runs in browsers too): audio files through
 * Web Audio, long WAV files a segment at a time, the microphone, and the recognizer in a Web Worker.
 *
 *   import { decodeAudio, RecognizerWorker } from 'ser-ts/browser';
 */
export { decodeAudio, monoOf, isWav, wavLayout, wavSegments, DECODE_RATE, type Segment, type WavLayout } from './browser/decode.js';
export { Microphone, RecentSamples, type MicrophoneOptions } from './browser/microphone.js';
export { RecognizerWorker, WorkerError, type WorkerLike, type WorkerPredictOptions } from './browser/worker-client.js';
export type { PredictReply, LoadReply, BackendReply } from './browser/protocol.js';
export { serveRecognizer, type ServeOptions, type WorkerScope } from './browser/worker-host.js';
