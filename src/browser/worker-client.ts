/**
 * The EmotionRecognizer in a Web Worker, so that a prediction never freezes the page. The page
 * makes the worker (bundlers recognise this form and bundle the worker script):
 *
 *   const worker = new Worker(new URL('./emotion-worker.js', import.meta.url), { type: 'module' });
 *   // emotion-worker.js holds one line: import 'ser-ts/worker';
 *   const recognizer = await RecognizerWorker.load(worker, bundledWeightUrls('ensemble', '/weights/'));
 *   const { prediction } = await recognizer.predict(await file.arrayBuffer());
 *
 * Buffers given to `predict` are transferred to the worker (the caller's copy is detached), and the
 * results are transferred back: nothing is copied twice.
 */
import type { BackendReply, Envelope, LoadReply, PredictReply, Reply, Request } from './protocol.js';
import { isWav } from './decode.js';
import { SerTsError } from '../tensor/errors.js';

/** The part of a Worker this class uses. */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<Reply>) => void): void;
  addEventListener(type: 'error', listener: (e: ErrorEvent) => void): void;
  terminate(): void;
}

/** An error thrown in the worker, re-thrown in the page with its name and message. */
export class WorkerError extends SerTsError {
  constructor(readonly remoteName: string, message: string) {
    super(message);
  }
}

export interface WorkerPredictOptions {
  /** Rate of Float32Array samples (WAV bytes carry their own). */
  sampleRate?: number;
  hopSeconds?: number;
  /** Also return the MFCC the model saw. */
  features?: boolean;
}

export class RecognizerWorker {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: WorkerLike, readonly info: LoadReply) {}

  /** Loads the weights (URLs, or their bytes) in the worker; resolves when it is ready to predict. */
  static async load(worker: WorkerLike, sources: string | URL | ArrayBuffer | readonly (string | URL | ArrayBuffer)[]): Promise<RecognizerWorker> {
    const list = (Array.isArray(sources) ? sources : [sources]).map((s) => (s instanceof URL ? s.href : s)) as (string | ArrayBuffer)[];
    const rw = new RecognizerWorker(worker, { members: 0, speakerNormalized: false });
    rw.listen();
    const info = await rw.call<LoadReply>({ kind: 'load', sources: list }, list.filter((s): s is ArrayBuffer => s instanceof ArrayBuffer));
    (rw as { info: LoadReply }).info = info;
    return rw;
  }

  /**
   * Classifies a WAV file's bytes (decoded in the worker by the library, exactly as in Node) or mono
   * samples at `opts.sampleRate`. The buffer is transferred: do not use it afterwards.
   */
  predict(input: ArrayBuffer | Float32Array, opts: WorkerPredictOptions = {}): Promise<PredictReply> {
    const isFloat = input instanceof Float32Array;
    let buffer = isFloat ? input.buffer as ArrayBuffer : input;
    if (isFloat && (input.byteOffset !== 0 || input.byteLength !== buffer.byteLength)) buffer = input.slice().buffer; // a view: send just its part
    if (!isFloat && !isWav(new Uint8Array(buffer, 0, Math.min(12, buffer.byteLength)))) {
      return Promise.reject(new SerTsError('RecognizerWorker.predict: bytes must be a WAV file; decode other formats with decodeAudio and pass the samples'));
    }
    return this.call<PredictReply>({ kind: 'predict', input: buffer, format: isFloat ? 'float32' : 'wav', sampleRate: opts.sampleRate, hopSeconds: opts.hopSeconds, features: opts.features }, [buffer]);
  }

  /** Selects the worker's backend ('cpu', or 'gpu' when the worker offers it). */
  setBackend(name: string): Promise<BackendReply> {
    return this.call<BackendReply>({ kind: 'backend', name }, []);
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new SerTsError('the recognizer worker was terminated'));
    this.pending.clear();
  }

  private listen(): void {
    this.worker.addEventListener('message', (e: MessageEvent<Reply>) => {
      const r = e.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(new WorkerError(r.error.name, r.error.message));
    });
    this.worker.addEventListener('error', (e: ErrorEvent) => {
      const err = new SerTsError(`the recognizer worker failed: ${e.message || 'it could not start (is the worker script reachable?)'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  private call<T>(req: Request, transfer: Transferable[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, ...req } satisfies Envelope, transfer);
    });
  }
}
