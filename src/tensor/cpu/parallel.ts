/**
 * How the CPU backend uses more than one core, without importing anything platform-specific.
 * A kernel that can split its work is written as a *lane function* `(lane, lanes, ...args)` that
 * does its share; `runLanes` runs it on one lane, or hands it to the installed LaneRunner (Node's
 * worker threads: see src/node/threads.ts) which runs every lane at once and returns when all are
 * done. Buffers that lanes write must then be visible to all threads, so while a runner is
 * installed `alloc` returns SharedArrayBuffer-backed arrays.
 */

export type LaneFunction = (lane: number, lanes: number, ...args: any[]) => void;

export interface LaneRunner {
  /** Lanes available, the calling thread included. */
  readonly lanes: number;
  /** Runs `name` (a key of the lane-kernel registry; `fn` is the same function) on every lane and waits. */
  run(name: string, fn: LaneFunction, args: unknown[], lanes: number): void;
}

let runner: LaneRunner | null = null;

/** Installs (or, with null, removes) the runner. */
export function setLaneRunner(r: LaneRunner | null): void {
  runner = r;
}

/** Lanes `runLanes` will use for large work. */
export function laneCount(): number {
  return runner?.lanes ?? 1;
}

/** Below this many multiply-adds a kernel runs on one lane: dispatch costs tens of microseconds. */
let minParallelWork = 1 << 18;

/** Changes the threshold (tests use 0 to send small shapes through the lanes). Returns the old one. */
export function setMinParallelWork(work: number): number {
  const old = minParallelWork;
  minParallelWork = work;
  return old;
}

/** How many kernel calls went to the runner, for tests and benchmarks. */
export const laneStats = { parallelRuns: 0 };

/** How many lanes a kernel with `work` multiply-adds should use. */
export function lanesFor(work: number): number {
  return runner && work >= minParallelWork ? runner.lanes : 1;
}

/** Runs fn on `lanes` lanes (from lanesFor, so buffers sized per lane agree with the split). */
export function runLanes(name: string, fn: LaneFunction, args: unknown[], lanes: number): void {
  if (!runner || lanes < 2) {
    fn(0, 1, ...args);
    return;
  }
  laneStats.parallelRuns++;
  runner.run(name, fn, args, lanes);
}

/** A zeroed float32 buffer that every lane can see. */
export function alloc(size: number): Float32Array {
  return runner ? new Float32Array(new SharedArrayBuffer(size * 4)) : new Float32Array(size);
}

/**
 * `data` itself, or while a runner is installed a shared copy of it: lanes in other threads see a
 * shared array in place, where a plain one would be copied to every thread on every kernel call.
 */
export function shareable(data: Float32Array): Float32Array {
  if (!runner || data.buffer instanceof SharedArrayBuffer) return data;
  const out = alloc(data.length);
  out.set(data);
  return out;
}

export function allocInt32(size: number): Int32Array {
  return runner ? new Int32Array(new SharedArrayBuffer(size * 4)) : new Int32Array(size);
}

/**
 * Splits `batch` samples of `positions` output positions each into chunks for `lanes` lanes:
 * whole samples when there are enough of them, otherwise ranges of positions (multiples of 4, the
 * GEMM panel width) so even one sample uses every core.
 */
export function chunks(batch: number, positions: number, lanes: number): { n: number; o0: number; o1: number }[] {
  const parts = batch >= lanes ? 1 : Math.ceil(lanes / batch);
  const step = Math.ceil(positions / parts / 4) * 4;
  const out: { n: number; o0: number; o1: number }[] = [];
  for (let n = 0; n < batch; n++) {
    for (let o0 = 0; o0 < positions; o0 += step) out.push({ n, o0, o1: Math.min(positions, o0 + step) });
  }
  return out;
}
