/**
 * Worker threads for the CPU backend (Node only). `enableThreads()` starts lanes − 1 workers that
 * run the same lane functions as the main thread (src/tensor/cpu/lanes.ts) on SharedArrayBuffers;
 * the caller takes lane 0 and then blocks on an Atomics counter until the others report. A worker
 * that throws reports its error through a port read synchronously; one that never answers is
 * caught by a timeout, so a kernel can fail but never hang.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { SerTsError } from '../tensor/errors.js';
import { relaxedSimdEnabled, simdEnabled } from '../wasm/simd.js';
import { type LaneFunction, type LaneRunner, laneCount, setLaneRunner } from '../tensor/cpu/parallel.js';

export class ThreadError extends SerTsError {}

const TIMEOUT_MS = 120_000;
const STARTUP_MS = 60_000;

interface Lane {
  worker: Worker;
  errors: MessagePort;
  /** Set when the worker emitted 'error' (seen only once the main thread's event loop runs). */
  failed: string | null;
}

class WorkerRunner implements LaneRunner {
  private readonly pool: Lane[];
  /** ready[i] becomes 1 once worker i has loaded and listens. */
  private readonly ready: Int32Array;
  private started = false;

  constructor(readonly lanes: number) {
    const here = import.meta.url;
    // Built code runs worker.js; from the TypeScript sources a JS bootstrap loads worker.ts via tsx.
    const url = new URL(here.endsWith('.ts') ? './worker-dev.mjs' : './worker.js', here);
    this.ready = new Int32Array(new SharedArrayBuffer(4 * (lanes - 1)));
    this.pool = Array.from({ length: lanes - 1 }, (_, index) => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(url, { workerData: { errors: port2, ready: this.ready, index }, transferList: [port2] });
      const lane: Lane = { worker, errors: port1, failed: null };
      worker.on('error', (e) => (lane.failed = e.message));
      // idle workers and their ports must not keep the process alive
      worker.unref();
      port1.unref();
      return lane;
    });
  }

  /** Blocks until every worker has loaded, so a worker that cannot start is an error, not a hang. */
  private awaitStartup(): void {
    const deadline = Date.now() + STARTUP_MS;
    for (let i = 0; i < this.ready.length; i++) {
      while (Atomics.load(this.ready, i) === 0) {
        const left = deadline - Date.now();
        const why = this.pool[i]!.failed;
        if (why || left <= 0 || Atomics.wait(this.ready, i, 0, Math.min(left, 100)) === 'timed-out' && Date.now() >= deadline) {
          throw new ThreadError(`worker thread ${i + 1} did not start${why ? `: ${why}` : ` within ${STARTUP_MS / 1000} s`}`);
        }
      }
    }
    this.started = true;
  }

  run(name: string, fn: LaneFunction, args: unknown[], lanes: number): void {
    if (!this.started) this.awaitStartup();
    const done = new Int32Array(new SharedArrayBuffer(4));
    const helpers = Math.min(lanes, this.lanes) - 1;
    for (let l = 1; l <= helpers; l++) this.pool[l - 1]!.worker.postMessage({ name, args, lane: l, lanes: helpers + 1, done, simd: simdEnabled(), relaxed: relaxedSimdEnabled() });
    let failure: unknown = null;
    try {
      fn(0, helpers + 1, ...args);
    } catch (e) {
      failure = e;
    }
    const deadline = Date.now() + TIMEOUT_MS;
    for (let seen = Atomics.load(done, 0); seen < helpers; seen = Atomics.load(done, 0)) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(done, 0, seen, left) === 'timed-out') {
        throw new ThreadError(`kernel '${name}': a worker thread did not finish within ${TIMEOUT_MS / 1000} s`);
      }
    }
    if (failure) throw failure;
    for (const { errors } of this.pool) {
      const msg = receiveMessageOnPort(errors);
      if (msg) throw new ThreadError(`kernel '${name}' failed in a worker thread: ${String(msg.message)}`);
    }
  }

  terminate(): Promise<unknown> {
    return Promise.all(this.pool.map(({ worker, errors }) => {
      errors.close();
      return worker.terminate();
    }));
  }
}

let active: WorkerRunner | null = null;

/**
 * Splits large CPU kernels (convolutions and their gradients) across `threads` cores, the calling
 * thread included. Defaults to every available core; 1 turns threading off.
 * Returns the number of lanes now in use. Call it before creating models and tensors: those
 * created while threads are on live in shared memory that every lane reads in place, while an
 * older tensor is copied to the workers on each kernel call that reads it.
 */
export function enableThreads(threads = availableParallelism()): number {
  if (!Number.isInteger(threads) || threads < 1) throw new ThreadError(`enableThreads: threads must be a positive integer, got ${threads}`);
  void disableThreads();
  if (threads > 1) {
    active = new WorkerRunner(threads);
    setLaneRunner(active);
  }
  return laneCount();
}

/** Stops the workers; kernels run on the calling thread again. */
export async function disableThreads(): Promise<void> {
  const r = active;
  active = null;
  setLaneRunner(null);
  if (r) await r.terminate();
}
