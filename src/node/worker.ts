/** A CPU-backend lane in a worker thread: runs the lane function it is sent, then reports. */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { laneKernels } from '../tensor/cpu/lanes.js';
import { relaxedSimdEnabled, setRelaxedSimd, setSimd, simdEnabled } from '../wasm/simd.js';

interface Task {
  name: string;
  args: unknown[];
  lane: number;
  lanes: number;
  done: Int32Array;
  /** The caller's kernel choice, so every lane computes the same way. */
  simd: boolean;
  /** And its relaxed-SIMD choice. */
  relaxed: boolean;
}

const { errors, ready, index } = workerData as { errors: MessagePort; ready: Int32Array; index: number };

parentPort!.on('message', (t: Task) => {
  try {
    const fn = laneKernels[t.name];
    if (!fn) throw new Error(`unknown lane kernel '${t.name}'`);
    if (t.simd !== simdEnabled()) setSimd(t.simd);
    if (t.simd && t.relaxed !== relaxedSimdEnabled()) setRelaxedSimd(t.relaxed);
    fn(t.lane, t.lanes, ...t.args);
  } catch (e) {
    errors.postMessage({ message: (e as Error).message ?? String(e) });
  } finally {
    Atomics.add(t.done, 0, 1);
    Atomics.notify(t.done, 0);
  }
});

Atomics.store(ready, index, 1);
Atomics.notify(ready, index);
