/** Module API, autograd mechanics, dropout and the seeded generator. */
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, noGrad, nn, ops, optim, rand, randn, tensor } from '../../src/index.js';
import { EmotionCNN } from '../../src/ser/model.js';

describe('Module', () => {
  it('parameters, train/eval and PyTorch-style keys for nested modules', () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.2)));
    expect(m.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(m.namedBuffers().map(([k]) => k)).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    m.eval();
    expect(m.namedModules().every(([, c]) => !c.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, c]) => c.training)).toBe(true);
  });
  it('EmotionCNN has the parameter count of the PyTorch original', () => {
    const n = new EmotionCNN().parameters().reduce((s, p) => s + p.size, 0);
    // conv 160 + 4640 + 18496, bn 2·(16+32+64), fc 860288 + 1032
    expect(n).toBe(160 + 4640 + 18496 + 2 * (16 + 32 + 64) + 860288 + 1032);
  });
  it('default init follows PyTorch: U(±1/√fan_in) for weights and biases', () => {
    manualSeed(3);
    const lin = new nn.Linear(100, 50);
    const w = lin.weight.toArray();
    const bound = 1 / Math.sqrt(100);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...w)).toBeGreaterThan(0.9 * bound); // spread over the whole interval
    const varW = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(varW).toBeCloseTo(bound * bound / 3, 4);
  });
});

describe('autograd mechanics', () => {
  it('gradients accumulate across backward calls until zeroed', () => {
    const x = tensor([2], [1], { requiresGrad: true });
    ops.mul(x, x).sum().backward();
    ops.mul(x, x).sum().backward();
    expect(x.grad!.item()).toBe(8);
  });
  it('a tensor used twice gets the sum of both paths', () => {
    const x = tensor([3], [1], { requiresGrad: true });
    const y = ops.add(ops.mul(x, x), ops.mul(x, 5)); // x² + 5x → 2x + 5
    y.sum().backward();
    expect(x.grad!.item()).toBe(11);
  });
  it('noGrad records nothing', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    const y = noGrad(() => ops.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
  });
  it('detach cuts the graph', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    const y = ops.mul(x.detach(), 2);
    expect(y.requiresGrad).toBe(false);
  });
  it('a 10 000-op chain backpropagates without overflowing the stack', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 10_000; i++) y = ops.add(y, 1);
    y.sum().backward();
    expect(x.grad!.item()).toBe(1);
  });
  it('finite differences agree with autograd through conv, batch norm, pool and linear', () => {
    manualSeed(11);
    const model = new nn.Sequential(
      new nn.Conv2d(2, 3, 3, { padding: 1, stride: 2 }), new nn.BatchNorm2d(3), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(3 * 2 * 2, 4),
    );
    const x = randn([3, 2, 9, 9]);
    const target = [1, 3, 0];
    const lossAt = () => ops.crossEntropy(model.forward(x), target).item();
    ops.crossEntropy(model.forward(x), target).backward();
    const w = model.parameters()[0]!; // conv weight
    const grad = w.grad!.toArray();
    const base = w.toArray();
    for (const i of [0, 7, 19, 40]) {
      const h = 1e-2;
      const plus = base.slice(); plus[i] += h;
      const minus = base.slice(); minus[i] -= h;
      w._assign(w._backend.fromArray(plus));
      const lp = lossAt();
      w._assign(w._backend.fromArray(minus));
      const lm = lossAt();
      w._assign(w._backend.fromArray(base.slice()));
      expect((lp - lm) / (2 * h)).toBeCloseTo(grad[i]!, 2);
    }
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1/(1−p); identity in eval', () => {
    const d = new nn.Dropout(0.3, new Generator(5));
    const x = tensor(new Float32Array(20000).fill(1), [20000], { requiresGrad: true });
    const y = d.forward(x).toArray();
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.28);
    expect(zeros).toBeLessThan(0.32);
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    d.eval();
    expect(d.forward(x)).toBe(x);
  });
  it('its gradient is the same mask', () => {
    const x = tensor(new Float32Array(100).fill(1), [100], { requiresGrad: true });
    const y = ops.dropout(x, 0.5, true, new Generator(1));
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual(y.toArray());
  });
});

describe('seeded generator', () => {
  it('manualSeed makes init, rand and shuffles reproducible', () => {
    manualSeed(42);
    const a = [new nn.Linear(4, 3).weight.toArray(), rand([5]).toArray()];
    manualSeed(42);
    const b = [new nn.Linear(4, 3).weight.toArray(), rand([5]).toArray()];
    expect(a).toEqual(b);
    const g1 = new Generator(9).shuffle([...Array(20).keys()]);
    const g2 = new Generator(9).shuffle([...Array(20).keys()]);
    expect(g1).toEqual(g2);
    expect(g1).not.toEqual([...Array(20).keys()]);
  });
  it('state can be saved and restored exactly', () => {
    const g = new Generator(1);
    g.uniform();
    const s = g.getState();
    const next = [g.uniform(), g.uniform()];
    g.setState(s);
    expect([g.uniform(), g.uniform()]).toEqual(next);
    // normals come in Box–Muller pairs: the pending second one is part of the state
    g.normal();
    const t = g.getState();
    const after = [g.normal(), g.normal(), g.uniform()];
    const h = new Generator(0);
    h.setState(t);
    expect([h.normal(), h.normal(), h.uniform()]).toEqual(after);
    expect(() => h.setState([1, 2])).toThrow(/4 or 5 numbers/);
  });
  it('randn has mean 0 and variance 1', () => {
    manualSeed(0);
    const v = randn([20000]).toArray();
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe('optimiser state', () => {
  it('saving and restoring Adam state continues the run exactly', () => {
    const run = (resumeAt: number | null) => {
      const p = tensor([1, -2, 3], [3], { requiresGrad: true });
      let opt = new optim.Adam([p], { lr: 0.1 });
      for (let i = 0; i < 6; i++) {
        if (i === resumeAt) {
          const saved = opt.stateDict();
          opt = new optim.Adam([p], { lr: 0.1 });
          opt.loadStateDict(saved, i);
        }
        opt.zeroGrad();
        ops.sum(ops.mul(p, p)).backward();
        opt.step();
      }
      return p.toArray();
    };
    expect(run(3)).toEqual(run(null));
  });
});

describe('max pooling edge cases', () => {
  it('ties keep the first maximum and NaN propagates, in the 2×2 fast path and the general path', () => {
    const x = tensor([1, 1, NaN, 0, 2, 2, 5, 5, 3, NaN, 3, 7, 3, 3, 3, 3], [1, 1, 4, 4], { requiresGrad: true });
    for (const [k, s] of [[2, 2], [2, 1]] as const) {
      const y = ops.maxPool2d(x, k, s);
      if (k === 2 && s === 2) expect(Array.from(y.toArray())).toEqual([2, NaN, NaN, 7]);
      x.grad = null;
      y.sum().backward();
      const g = x.grad!.toArray();
      expect(g.reduce((a, b) => a + b, 0)).toBe(y.size); // each output routes exactly one gradient
    }
    const y = ops.maxPool2d(x, 2, 2);
    x.grad = null;
    y.sum().backward();
    // first maximum of each window gets the gradient: 2 at index 4, NaN at 2 and 9, 7 at 11
    expect(Array.from(x.grad!.toArray()).map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([2, 4, 9, 11]);
  });
});

describe('relu', () => {
  it('is exact, keeps NaN, and its gradient passes only where the input is positive', () => {
    const x = tensor([-2, -0, 0, 1e-30, 3, NaN], [6], { requiresGrad: true });
    const y = ops.relu(x);
    expect(Array.from(y.toArray())).toEqual([0, 0, 0, 1e-30, 3, NaN].map(Math.fround));
    y.backward(tensor([1, 1, 1, 1, 1, 1]));
    expect(Array.from(x.grad!.toArray())).toEqual([0, 0, 0, 1, 1, 0]);
  });
});
