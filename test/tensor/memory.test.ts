/**
 * Deterministic release (src/tensor/memory.ts): dispose, tidy, keep and memory(), checked on a
 * backend that counts its live handles as a GPU backend's textures would be counted: the CPU
 * kernels behind a `dispose` that forgets a handle. A training step of the EmotionCNN in a tidy
 * scope must leave exactly the handles it found (parameters, optimiser state, running statistics).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  DisposedError, type Backend, backendByName, getBackend, keep, madeInScope, manualSeed, memory, optim, registerBackend, ser, setBackend, tensor, tidy,
} from '../../src/index.js';
import { crossEntropy } from '../../src/tensor/ops/loss.js';

/** The CPU kernels, with every handle they return counted live until `dispose` is called on it. */
const live = new Set<object>();
let disposals = 0;
function countingBackend(): Backend {
  const cpu = backendByName('cpu') as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { name: 'counting' };
  // as a backend that can release storage must: every handle it makes reported with madeInScope
  const add = (h: object) => {
    live.add(h);
    madeInScope(out as unknown as Backend, h);
  };
  const note = (r: unknown) => {
    if (r instanceof Float32Array || r instanceof Int32Array) add(r);
    else if (r && typeof r === 'object') for (const v of Object.values(r)) if (v && typeof v === 'object') add(v);
  };
  for (const [k, f] of Object.entries(cpu)) {
    if (typeof f !== 'function') continue;
    out[k] = k === 'read' ? f : (...args: unknown[]) => {
      const r = (f as (...a: unknown[]) => unknown)(...args);
      note(r);
      return r;
    };
  }
  out.dispose = (h: object) => {
    expect(live.has(h), 'a handle disposed twice, or one the backend never made').toBe(true);
    live.delete(h);
    disposals++;
  };
  return out as unknown as Backend;
}
registerBackend('counting', countingBackend);
const before = getBackend();
afterAll(() => setBackend(before));

describe('dispose and tidy', () => {
  it('dispose releases the storage once, when the last view of it goes; use afterwards is a DisposedError', () => {
    setBackend('counting');
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const view = a.reshape([4]);
    const n = live.size;
    a.dispose();
    expect(live.size).toBe(n); // the view still holds it
    expect(a.isDisposed).toBe(true);
    expect(() => a.toArray()).toThrow(DisposedError);
    expect(() => a.add(1)).toThrow(/used after it was disposed/);
    expect(Array.from(view.toArray())).toEqual([1, 2, 3, 4]);
    view.dispose();
    view.dispose(); // twice: nothing
    expect(live.size).toBe(n - 1);
  });
  it('tidy disposes what fn made except its result; nested scopes hand results outwards; keep() exempts', () => {
    setBackend('counting');
    const x = tensor([1, 2, 3]);
    const start = { live: live.size, tensors: memory().numTensors };
    let kept = null as ReturnType<typeof tensor> | null;
    let inner = null as ReturnType<typeof tensor> | null;
    const out = tidy(() => {
      const y = x.mul(2).add(1).exp(); // three ops: two temporaries and the result
      kept = keep(x.sub(1));
      inner = tidy(() => y.mul(y).neg()); // neg's input is released by the inner scope
      return { sum: inner.sum(), y };
    });
    expect(out.sum.item()).toBeCloseTo(-[3, 5, 7].reduce((s, v) => s + Math.exp(2 * v), 0), 0);
    expect(out.y.isDisposed).toBe(false);
    expect(kept!.isDisposed).toBe(false);
    expect(inner!.isDisposed).toBe(true); // made in the outer scope, not returned by it
    expect(memory().numTensors - start.tensors).toBe(3); // sum, y, kept
    expect(live.size - start.live).toBe(3);
    for (const t of [out.sum, out.y, kept!]) t.dispose();
    expect(live.size).toBe(start.live);
    expect(memory().scopes).toBe(0);
    expect(() => tidy(() => Promise.resolve(1) as unknown as number)).toThrow(/tidy only scopes synchronous work/);
  });
  it('a scope that throws still closes; what it made is left to the garbage collector', () => {
    expect(() => tidy(() => {
      tensor([1]).add(1);
      throw new Error('boom');
    })).toThrow('boom');
    expect(memory().scopes).toBe(0);
  });
});

describe('a training step in a tidy scope leaves memory flat', () => {
  it('EmotionCNN with Adam: the same live handles after step 1 and step 3, and gradients released', () => {
    setBackend('counting');
    manualSeed(0);
    const model = new ser.EmotionCNN({ deltas: 2 });
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = new Float32Array(2 * 40 * 174).map((_, i) => Math.sin(i / 7));
    const step = () => tidy(() => {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(tensor(x, [2, 1, 40, 174])), [1, 5]);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });
    const counts: number[] = [];
    const tensors: number[] = [];
    const d0 = disposals;
    for (let i = 0; i < 3; i++) {
      step();
      counts.push(live.size);
      tensors.push(memory().numTensors);
    }
    // step 1 creates Adam's moments; after it nothing is added
    expect(counts[2]).toBe(counts[1]);
    expect(tensors[2]).toBe(tensors[1]);
    expect(disposals - d0).toBeGreaterThan(3 * 50); // activations, gradients and temporaries, every step
    // eval in a scope too: logits read, nothing left
    model.eval();
    const n = live.size;
    const logits = tidy(() => model.forward(tensor(x, [2, 1, 40, 174])).toArray());
    expect(logits.length).toBe(16);
    expect(live.size).toBe(n);
  });
  it('the library trains and scores in scopes: ser.train and scoreClips leave no handle behind', () => {
    setBackend('counting');
    manualSeed(1);
    const model = new ser.EmotionCNN();
    const features = new Float32Array(4 * 40 * 174).map((_, i) => Math.cos(i / 11) * 10);
    ser.train(model, { features, labels: [0, 1, 2, 3] }, { epochs: 1, batchSize: 2, lr: 1e-3 });
    const n = live.size;
    ser.train(model, { features, labels: [0, 1, 2, 3] }, { epochs: 1, batchSize: 2, lr: 1e-3 });
    // a second run adds only its new optimiser's two moments per parameter (the first one's are the garbage collector's to free)
    const afterSecond = live.size;
    expect(afterSecond - n).toBe(2 * model.parameters().length);
    const r = new ser.EmotionRecognizer(model);
    const m = live.size;
    r.scoreClips(features);
    // the model keeps its eval-mode folded weight and bias for each of its three blocks, once
    expect(live.size - m).toBe(6);
    r.scoreClips(features);
    expect(live.size - m).toBe(6);
  });
});
