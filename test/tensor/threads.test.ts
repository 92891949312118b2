/** The worker-thread lanes give PyTorch's answers too, for whole-sample and split-sample chunks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, noGrad, ops, randn, setSimd, simdAvailable } from '../../src/index.js';
import { disableThreads, enableThreads } from '../../src/node.js';
import { laneCount, laneStats, setMinParallelWork } from '../../src/tensor/cpu/parallel.js';
import { expectClose, torchFixture } from '../helpers/fixtures.js';
import { cpuKernels } from '../helpers/kernels.js';

const leaf = (t: Tensor) => t.detach().clone().requiresGrad_();

describe('CPU kernels on two worker lanes', () => {
  beforeAll(() => {
    expect(enableThreads(2)).toBe(2);
  });
  afterAll(async () => {
    await disableThreads();
    expect(laneCount()).toBe(1);
  });

  for (const kernel of cpuKernels) for (const name of ['conv_pad1', 'conv_stride2_nopad', 'conv_rect', 'conv_1x1']) {
    it(`${name} forward and both gradients, every kernel split across lanes (${kernel} kernels)`, () => {
      setSimd(kernel === 'simd');
      const old = setMinParallelWork(0);
      const before = laneStats.parallelRuns;
      const { t, config } = torchFixture(name);
      const x = leaf(t.x!);
      const w = leaf(t.w!);
      const b = t.b ? leaf(t.b) : null;
      const y = ops.conv2d(x, w, b, { stride: config.stride as [number, number], padding: config.padding as [number, number] });
      expectClose(y, t.y!, 1e-5, 'y');
      ops.sum(ops.mul(y, t.gy!)).backward();
      expectClose(x.grad, t.gx!, 1e-5, 'dx');
      expectClose(w.grad, t.gw!, 1e-5, 'dw');
      expect(laneStats.parallelRuns - before).toBeGreaterThanOrEqual(3);
      setMinParallelWork(old);
      setSimd(simdAvailable());
    });
  }

  it('batch norm (train, eval, running statistics) and max pooling split across lanes match PyTorch', () => {
    const old = setMinParallelWork(0);
    const before = laneStats.parallelRuns;
    const { t } = torchFixture('bn_train');
    const { t: tp } = torchFixture('bn_train_params');
    const bn = new nn.BatchNorm2d(t.weight!.size);
    bn.loadStateDict({ ...bn.stateDict(), weight: t.weight!, bias: t.bias! });
    const x1 = leaf(t.x1!);
    const y = bn.forward(x1);
    expectClose(y, t.y!, 1e-5, 'y');
    ops.sum(ops.mul(y, t.gy!)).backward();
    expectClose(x1.grad, t.gx!, 1e-5, 'dx');
    expectClose(bn.weight.grad, tp.gw!, 1e-5, 'dγ');
    expectClose(bn.runningVar, t.rv1!, 1e-6, 'running var');
    bn.forward(t.x2!);
    bn.eval();
    expectClose(bn.forward(t.x3!), t.y3!, 1e-5, 'eval y');
    for (const name of ['pool_k2_odd', 'pool_k3_s2']) {
      const { t: p, config } = torchFixture(name);
      const x = leaf(p.x!);
      const out = ops.maxPool2d(x, config.kernel as [number, number], config.stride as [number, number]);
      expectClose(out, p.y!, 0, `${name} y`);
      ops.sum(ops.mul(out, p.gy!)).backward();
      expectClose(x.grad, p.gx!, 0, `${name} dx`);
    }
    expect(laneStats.parallelRuns - before).toBeGreaterThanOrEqual(8);
    setMinParallelWork(old);
  });

  it('the fused inference block (conv, 2×2 max-pool, ReLU) split across lanes equals the three ops on one', async () => {
    manualSeed(5);
    const w = randn([24, 8, 3, 3]);
    const b = randn([24]);
    for (const [batch, h] of [[1, 30], [3, 31]] as const) {
      const x = randn([batch, 8, h, 50]);
      const before = laneStats.parallelRuns;
      const fused = noGrad(() => ops.fusedConv2d(x, w, b, { padding: 1, maxPool: 2, activation: 'relu' })).toArray();
      expect(laneStats.parallelRuns - before).toBe(1);
      await disableThreads();
      const steps = noGrad(() => ops.relu(ops.maxPool2d(ops.conv2d(x, w, b, { padding: 1 }), 2)));
      enableThreads(2);
      expect(steps.shape).toEqual([batch, 24, h >> 1, 25]);
      expectClose(fused, steps.toArray(), 1e-6, `batch ${batch}`);
    }
  });

  it('large convolutions and matmuls (above the parallel threshold) match one lane, batch 1 and 5', async () => {
    manualSeed(4);
    const w = randn([24, 8, 3, 3]);
    const lin = randn([40, 500]);
    const results = (batch: number) => {
      manualSeed(10 + batch);
      const x = randn([batch, 8, 30, 50], { requiresGrad: true });
      const wt = w.detach().clone().requiresGrad_();
      const y = ops.conv2d(x, wt, null, { padding: 1 });
      const gy = randn(y.shape as number[]);
      ops.sum(ops.mul(y, gy)).backward();
      const h = randn([batch * 20, 500]);
      const z = noGrad(() => ops.linear(h, lin));
      const z2 = noGrad(() => ops.matmul(h, ops.transpose(lin, 0, 1)));
      return [y, x.grad!, wt.grad!, z, z2].map((v) => v.toArray());
    };
    for (const batch of [1, 5]) {
      const before = laneStats.parallelRuns;
      const threaded = results(batch);
      expect(laneStats.parallelRuns - before).toBe(5); // conv forward, both gradients, two matmuls
      await disableThreads();
      const single = results(batch);
      enableThreads(2);
      // lanes split the weight gradient's sum over positions into partial sums added at the end, a
      // different float32 summation order than one lane's: agreement is to float32 rounding (~1e-6)
      threaded.forEach((v, i) => expectClose(v, single[i]!, i === 2 ? 5e-6 : 1e-6, `batch ${batch}, output ${i}`));
    }
  });
});
