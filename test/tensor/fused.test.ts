/** ops.fusedConv2d: the inference fast path and the differentiable composition give the same answer. */
import { describe, expect, it } from 'vitest';
import { ValueError, manualSeed, noGrad, ops, randn } from '../../src/index.js';
import { expectClose } from '../helpers/fixtures.js';

describe('fusedConv2d', () => {
  it('without gradients equals conv2d → maxPool2d(2) → relu (odd sizes: floor mode drops the last row and column)', () => {
    manualSeed(1);
    const x = randn([2, 3, 9, 13]);
    const w = randn([5, 3, 3, 3]);
    const b = randn([5]);
    const fused = noGrad(() => ops.fusedConv2d(x, w, b, { padding: 1, maxPool: 2, activation: 'relu' }));
    const steps = noGrad(() => ops.relu(ops.maxPool2d(ops.conv2d(x, w, b, { padding: 1 }), 2)));
    expect(fused.shape).toEqual([2, 5, 4, 6]);
    expectClose(fused, steps.toArray(), 1e-6);
    const noAct = noGrad(() => ops.fusedConv2d(x, w, b, { padding: 1, maxPool: 2 }));
    expectClose(noAct, noGrad(() => ops.maxPool2d(ops.conv2d(x, w, b, { padding: 1 }), 2)).toArray(), 1e-6);
    expect(Math.min(...noAct.toArray())).toBeLessThan(0);
  });

  it('with gradients is the three differentiable ops: the same gradients reach input, weight and bias', () => {
    manualSeed(2);
    const make = () => [randn([1, 2, 6, 8], { requiresGrad: true }), randn([4, 2, 3, 3], { requiresGrad: true }), randn([4], { requiresGrad: true })] as const;
    manualSeed(3);
    const [x1, w1, b1] = make();
    ops.sum(ops.fusedConv2d(x1, w1, b1, { padding: 1, maxPool: 2, activation: 'relu' })).backward();
    manualSeed(3);
    const [x2, w2, b2] = make();
    ops.sum(ops.relu(ops.maxPool2d(ops.conv2d(x2, w2, b2, { padding: 1 }), 2))).backward();
    expectClose(x1.grad, x2.grad!.toArray(), 0, 'dx');
    expectClose(w1.grad, w2.grad!.toArray(), 0, 'dw');
    expectClose(b1.grad, b2.grad!.toArray(), 0, 'db');
  });

  it('refuses options it does not have', () => {
    const x = randn([1, 1, 4, 4]);
    const w = randn([1, 1, 3, 3]);
    expect(() => ops.fusedConv2d(x, w, null, { maxPool: 3 as 2 })).toThrow(ValueError);
    expect(() => ops.fusedConv2d(x, w, null, { activation: 'gelu' as 'relu' })).toThrow(/activation must be/);
    expect(() => ops.fusedConv2d(x, w, randn([2]))).toThrow(/bias/);
  });
});
