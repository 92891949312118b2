/**
 * The switch for every WebAssembly SIMD kernel in the library: the CPU backend's matrix
 * micro-kernel and the audio front end's FFT, interpolator, mel sums and DCT. One switch, so that
 * `setSimd(false)` selects the JavaScript paths everywhere (for comparison, or an engine whose
 * SIMD is suspect). Lives outside `tensor` and `audio` because both use it.
 */
import { ValueError } from '../tensor/errors.js';
import { assemble, op } from './emit.js';

let available: boolean | undefined;
let enabled: boolean | undefined;
let relaxedAvailable: boolean | undefined;
let relaxedOn: boolean | undefined;

/** Whether this JavaScript engine runs WebAssembly SIMD (Node ≥ 16.4, current browsers): a one-instruction module is validated. */
export function simdAvailable(): boolean {
  if (available === undefined) {
    try {
      const probe = assemble([{ name: 'probe', params: [], locals: [], body: [op.i32(0), op.i32(0), op.load(), op.store()] }], 1);
      available = typeof WebAssembly === 'object' && WebAssembly.validate(probe);
    } catch {
      available = false;
    }
  }
  return available;
}

/** Whether the SIMD kernels run: on by default wherever they are available. */
export function simdEnabled(): boolean {
  if (enabled === undefined) enabled = simdAvailable();
  return enabled;
}

/**
 * Turns the SIMD kernels on or off. Off: the JavaScript matrix kernel (float64 accumulation) and
 * the JavaScript audio loops (bit-identical to the SIMD ones).
 */
export function setSimd(on: boolean): void {
  if (on && !simdAvailable()) throw new ValueError('setSimd: this JavaScript engine has no WebAssembly SIMD');
  enabled = on;
}

/**
 * Whether this engine runs relaxed SIMD (Chrome ≥ 114, Node ≥ 22; Node 20 with
 * --experimental-wasm-relaxed-simd): a module using f32x4.relaxed_madd is validated.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedAvailable === undefined) {
    try {
      const probe = assemble([{ name: 'probe', params: [], locals: [], body: [op.i32(0), op.zero(), op.zero(), op.zero(), op.f32x4RelaxedMadd(), op.store()] }], 1);
      relaxedAvailable = simdAvailable() && WebAssembly.validate(probe);
    } catch {
      relaxedAvailable = false;
    }
  }
  return relaxedAvailable;
}

/**
 * Whether the matrix and convolution kernels use relaxed SIMD's multiply-add: wherever it is
 * available and SIMD is on. Sums then round once per multiply-add where the CPU fuses it (as
 * PyTorch's FMA kernels do) instead of twice.
 */
export function relaxedSimdEnabled(): boolean {
  if (relaxedOn === undefined) relaxedOn = relaxedSimdAvailable();
  return relaxedOn && simdEnabled();
}

/** Turns the relaxed multiply-add off (the plain SIMD kernels) or back on where available. */
export function setRelaxedSimd(on: boolean): void {
  if (on && !relaxedSimdAvailable()) throw new ValueError('setRelaxedSimd: this JavaScript engine has no relaxed SIMD');
  relaxedOn = on;
}

/**
 * A kernel module in its two variants, with and without relaxed SIMD's multiply-add, each
 * compiled once (null where the engine rejects it), and one instance per variant on this thread:
 * `current()` is the instance the present switches select, or null with SIMD off or unavailable.
 */
export function simdKernel<T>(assembleFor: (fma: boolean) => Uint8Array<ArrayBuffer>, instantiate: (module: WebAssembly.Module) => T) {
  const compiled = new Map<boolean, WebAssembly.Module | null>();
  const instances = new Map<boolean, T>();
  const compile = (fma: boolean): WebAssembly.Module | null => {
    if (!compiled.has(fma)) {
      let module: WebAssembly.Module | null = null;
      try {
        const bytes = assembleFor(fma);
        // engines without SIMD (or without WebAssembly) reject the module: the JavaScript paths stay
        if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) module = new WebAssembly.Module(bytes);
      } catch {
        module = null;
      }
      compiled.set(fma, module);
    }
    return compiled.get(fma)!;
  };
  return {
    /** The instance for the present switches (made on first use), or null. */
    current(): T | null {
      if (!simdEnabled()) return null;
      const fma = relaxedSimdEnabled();
      if (!instances.has(fma)) {
        const module = compile(fma);
        if (!module) return null;
        instances.set(fma, instantiate(module));
      }
      return instances.get(fma)!;
    },
    /** A new instance with its own memory, or null. */
    fresh(): T | null {
      const module = simdEnabled() ? compile(relaxedSimdEnabled()) : null;
      return module ? instantiate(module) : null;
    },
  };
}
