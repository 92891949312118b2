/**
 * The worker side of `RecognizerWorker`: loads weights, switches backend and classifies clips, one
 * request at a time, answering each with its id. Results travel back transferred, not copied.
 */
import { backendByName, getBackend, listBackends, setBackend } from '../tensor/backend.js';
import '../tensor/cpu/register.js';
import { load } from '../audio/load.js';
import { resample } from '../audio/resample.js';
import { loadModelFrom } from '../ser/load.js';
import { type Recognizer, clipWindows } from '../ser/predict.js';
import { SAMPLE_RATE } from '../ser/features.js';
import { SerTsError } from '../tensor/errors.js';
import type { BackendReply, Envelope, LoadReply, PredictReply, Reply } from './protocol.js';

/** What a worker scope offers (a DedicatedWorkerGlobalScope, or anything shaped like one in tests). */
export interface WorkerScope {
  onmessage: ((e: MessageEvent<Envelope>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
}

export interface ServeOptions {
  /** Registers the 'gpu' backend on first use (`() => import('ser-ts/gpu')`); without it only 'cpu' is offered. */
  loadGpu?: () => Promise<unknown>;
}

export function serveRecognizer(scope: WorkerScope, opts: ServeOptions = {}): void {
  let model: Recognizer | null = null;
  let gpuModule: { autoDecision?: () => { reason: string } | null } | null = null;
  let queue = Promise.resolve();
  const now = () => (globalThis.performance ?? Date).now();

  async function handle(req: Envelope): Promise<{ value: unknown; transfer: Transferable[] }> {
    switch (req.kind) {
      case 'load': {
        model = req.sources.length === 1 ? await loadModelFrom(req.sources[0]!) : await loadModelFrom(req.sources);
        const value: LoadReply = { members: 'members' in model ? model.members.length : 1, speakerNormalized: model.speakerNormalized };
        return { value, transfer: [] };
      }
      case 'backend': {
        if ((req.name === 'gpu' || req.name === 'auto') && !listBackends().includes(req.name)) {
          if (!opts.loadGpu) throw new SerTsError(`this worker offers no '${req.name}' backend (serveRecognizer was given no loadGpu)`);
          gpuModule = (await opts.loadGpu()) as typeof gpuModule;
        }
        setBackend(req.name);
        // the loaded weights follow the selected backend (the model runs where its input is made)
        if (model) for (const m of 'members' in model ? model.members : [model]) m.model.to(getBackend());
        const value: BackendReply = {
          backend: getBackend(), mode: (backendByName(req.name) as { mode?: string }).mode,
          ...(req.name === 'auto' ? { reason: gpuModule?.autoDecision?.()?.reason } : {}),
        };
        return { value, transfer: [] };
      }
      case 'predict': {
        if (!model) throw new SerTsError('no model loaded: send load first');
        const t0 = now();
        const bytes = new Uint8Array(req.input);
        // the samples at the model's rate
        const y = req.format === 'wav'
          ? load(bytes, { sampleRate: SAMPLE_RATE })
          : (req.sampleRate === SAMPLE_RATE ? new Float32Array(req.input) : resample(new Float32Array(req.input), checkRate(req.sampleRate), SAMPLE_RATE));
        // the windows hold the clip's MFCC: the model and the heatmap share one computation
        const w = clipWindows(y, { sampleRate: SAMPLE_RATE, hopSeconds: req.hopSeconds, trim: model.trim });
        const t1 = now();
        const prediction = model.predictWindows(w);
        const t2 = now();
        const value: PredictReply = { prediction, ms: { features: t1 - t0, model: t2 - t1 }, backend: getBackend() };
        const transfer: Transferable[] = [];
        if (req.features) {
          value.mfcc = { data: w.mfcc.data, frames: w.mfcc.frames };
          transfer.push(w.mfcc.data.buffer as ArrayBuffer);
        }
        return { value, transfer };
      }
      default:
        throw new SerTsError(`unknown request '${(req as { kind: string }).kind}'`);
    }
  }

  scope.onmessage = (e) => {
    const req = e.data;
    queue = queue.then(async () => {
      try {
        const { value, transfer } = await handle(req);
        scope.postMessage({ id: req.id, ok: true, value }, transfer);
      } catch (err) {
        const error = err as Error;
        scope.postMessage({ id: req.id, ok: false, error: { name: error?.name ?? 'Error', message: error?.message ?? String(err) } });
      }
    });
  };
}

function checkRate(rate: number | undefined): number {
  if (!(rate! > 0)) throw new SerTsError(`predict: float32 samples need a positive sampleRate, got ${rate}`);
  return rate!;
}
