/** EmotionCNN with delta channels: the filter, the channels it adds, their gradient, and weights files that carry them. */
import { describe, expect, it } from 'vitest';
import { ValueError, manualSeed, noGrad, saveSafetensors, ser, tensor } from '../../src/index.js';
import { sum, mul } from '../../src/tensor/ops/index.js';
import { Generator } from '../../src/tensor/random.js';

const { EmotionCNN, EmotionRecognizer, deltaKernel } = ser;
const H = 40;
const W = 174;

/** HTK's delta of each row, written out (float64, frames outside the row are 0). */
function htkDelta(x: Float64Array, rows: number, n = 4): Float64Array {
  let norm = 0;
  for (let k = 1; k <= n; k++) norm += 2 * k * k;
  const at = (r: number, t: number) => (t >= 0 && t < W ? x[r * W + t]! : 0);
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < W; t++) {
      let s = 0;
      for (let k = 1; k <= n; k++) s += k * (at(r, t + k) - at(r, t - k));
      out[r * W + t] = s / norm;
    }
  }
  return out;
}

/** The adjoint of htkDelta: what a gradient flowing back through the delta becomes. */
function htkDeltaAdjoint(g: Float64Array, rows: number, n = 4): Float64Array {
  let norm = 0;
  for (let k = 1; k <= n; k++) norm += 2 * k * k;
  const out = new Float64Array(g.length);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < W; t++) {
      for (let k = 1; k <= n; k++) {
        if (t + k < W) out[r * W + t + k] += (k * g[r * W + t]!) / norm;
        if (t - k >= 0) out[r * W + t - k] -= (k * g[r * W + t]!) / norm;
      }
    }
  }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function randomImage(seed: number, n = 1): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n * H * W }, () => g.normal());
}

describe('delta channels', () => {
  it('the filter is the least-squares slope over 9 frames (librosa.feature.delta\'s width-9 Savitzky-Golay filter)', () => {
    expect(Array.from(deltaKernel())).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4].map((k) => Math.fround(k / 60)));
    expect(Array.from(deltaKernel(1))).toEqual([-0.5, 0, 0.5]);
  });

  it('a ramp has a constant delta and no acceleration away from the edges', () => {
    const m = new EmotionCNN({ deltas: 2 });
    const x = Float32Array.from({ length: H * W }, (_, i) => 0.5 * (i % W) - 3);
    const d = noGrad(() => m.withDeltas(tensor(x, [1, 1, H, W]))).toArray();
    expect(d.length).toBe(3 * H * W);
    for (let r = 0; r < H; r++) {
      for (let t = 8; t < W - 8; t++) {
        expect(d[H * W + r * W + t]).toBeCloseTo(0.5, 5);
        expect(d[2 * H * W + r * W + t]).toBeCloseTo(0, 5);
      }
    }
  });

  it('channels are [x, Δx, ΔΔx] with Δ as HTK defines it, zero beyond the edges', () => {
    const x = randomImage(1, 2);
    for (const deltas of [1, 2]) {
      const m = new EmotionCNN({ deltas });
      const y = noGrad(() => m.withDeltas(tensor(x, [2, 1, H, W]))).toArray();
      expect(y.length).toBe(2 * (1 + deltas) * H * W);
      for (let b = 0; b < 2; b++) {
        const clip = Float64Array.from(x.subarray(b * H * W, (b + 1) * H * W));
        const d1 = htkDelta(clip, H);
        const channel = (c: number) => y.subarray((b * (1 + deltas) + c) * H * W, (b * (1 + deltas) + c + 1) * H * W);
        expect(maxDiff(channel(0), clip)).toBe(0);
        expect(maxDiff(channel(1), d1)).toBeLessThan(1e-6);
        if (deltas === 2) expect(maxDiff(channel(2), htkDelta(d1, H))).toBeLessThan(1e-6);
      }
    }
    expect(new EmotionCNN().withDeltas(tensor(x, [2, 1, H, W])).shape).toEqual([2, 1, H, W]);
  });

  it('the gradient reaching the input is the delta filter\'s adjoint; the filter itself is not trained', () => {
    const x = tensor(randomImage(2), [1, 1, H, W]);
    x.requiresGrad = true;
    const w = randomImage(3, 3);
    const m = new EmotionCNN({ deltas: 2 });
    sum(mul(m.withDeltas(x), tensor(w, [1, 3, H, W]))).backward();
    const part = (c: number) => Float64Array.from(w.subarray(c * H * W, (c + 1) * H * W));
    const back1 = htkDeltaAdjoint(part(1), H);
    const back2 = htkDeltaAdjoint(htkDeltaAdjoint(part(2), H), H);
    const expected = part(0).map((v, i) => v + back1[i]! + back2[i]!);
    expect(maxDiff(x.grad!.toArray(), expected)).toBeLessThan(1e-5);
    expect(m.parameters().length).toBe(new EmotionCNN().parameters().length);
    expect(Object.keys(m.stateDict())).toEqual(Object.keys(new EmotionCNN().stateDict()));
  });

  it('only conv1 changes: 1 + deltas input channels; a training step reaches its delta weights', () => {
    manualSeed(0);
    const m = new EmotionCNN({ deltas: 2 });
    expect(m.conv1.weight.shape).toEqual([16, 3, 3, 3]);
    expect(m.fc1.weight.shape).toEqual(new EmotionCNN().fc1.weight.shape);
    const logits = m.forward(tensor(randomImage(4, 2), [2, 1, H, W]));
    expect(logits.shape).toEqual([2, 8]);
    sum(logits).backward();
    const g = m.conv1.weight.grad!.toArray();
    // the weights on the Δ and ΔΔ channels (input channels 1 and 2) get a gradient
    for (const c of [1, 2]) {
      let norm = 0;
      for (let o = 0; o < 16; o++) for (let k = 0; k < 9; k++) norm += Math.abs(g[(o * 3 + c) * 9 + k]!);
      expect(norm).toBeGreaterThan(0);
    }
    expect(() => new EmotionCNN({ deltas: 3 })).toThrow(ValueError);
    expect(() => new EmotionCNN({ deltas: 0.5 })).toThrow(/deltas must be 0, 1 or 2/);
  });

  it('weights files: deltas from the metadata or from conv1\'s shape; a mismatch is an error that says so', () => {
    manualSeed(1);
    const m = new EmotionCNN({ deltas: 2 });
    const x = tensor(randomImage(5), [1, 1, H, W]);
    m.eval();
    const want = noGrad(() => m.forward(x)).toArray();
    for (const metadata of [{ deltas: '2' }, {}] as Record<string, string>[]) {
      const r = EmotionRecognizer.fromSafetensors(saveSafetensors(m.stateDict(), { metadata }));
      expect(r.model.deltas).toBe(2);
      expect(maxDiff(noGrad(() => r.model.forward(x)).toArray(), want)).toBe(0);
    }
    expect(() => EmotionRecognizer.fromSafetensors(saveSafetensors(m.stateDict(), { metadata: { deltas: '1' } })))
      .toThrow(/deltas 1 \(conv1 with 2 input channels\), but conv1.weight has 3/);
    expect(() => EmotionRecognizer.fromSafetensors(saveSafetensors(m.stateDict(), { metadata: { deltas: 'x' } }))).toThrow(/deltas must be 0, 1 or 2, got 'x'/);
    expect(EmotionRecognizer.fromSafetensors(saveSafetensors(new EmotionCNN().stateDict())).model.deltas).toBe(0);
  });
});
