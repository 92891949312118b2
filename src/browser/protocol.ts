/** The messages between `RecognizerWorker` (the page) and `serveRecognizer` (the worker). */
import type { Prediction } from '../ser/predict.js';

export type Request =
  | { kind: 'load'; sources: (string | ArrayBuffer)[] }
  | { kind: 'backend'; name: string }
  | {
    kind: 'predict';
    /** WAV bytes (decoded by the library, as in Node) or mono samples at `sampleRate`; transferred, not copied. */
    input: ArrayBuffer;
    format: 'wav' | 'float32';
    sampleRate?: number;
    hopSeconds?: number;
    /** Also send back the MFCC the model saw (for a heatmap). */
    features?: boolean;
  };

export interface LoadReply { members: number; speakerNormalized: boolean }
export interface BackendReply {
  /** The backend now in use ('auto' resolves to 'cpu' or 'gpu'). */
  backend: string;
  mode?: string;
  /** With 'auto': why it chose that backend. */
  reason?: string;
}
export interface PredictReply {
  prediction: Prediction;
  /** The clip's MFCC [40 × frames], row-major, when `features` was asked for. */
  mfcc?: { data: Float32Array; frames: number };
  /** Milliseconds the worker spent: features (decode, resample, MFCC) and the model. */
  ms: { features: number; model: number };
  backend: string;
}

export type Envelope = { id: number } & Request;
export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };
