/** Forward values and gradients against PyTorch 1.13 (fixtures: scripts/gen_torch_fixtures.py). */
import { describe, expect, it } from 'vitest';
import { type Tensor, nn, noGrad, ops, optim, tensor } from '../../src/index.js';
import { expectClose, torchFixture } from '../helpers/fixtures.js';
import { cpuKernels, useCpuKernel } from '../helpers/kernels.js';

const leaf = (t: Tensor) => t.detach().clone().requiresGrad_();
/** Back-propagates sum(y ⊙ gy), the scalar every fixture used. */
const backwardWith = (y: Tensor, gy: Tensor) => ops.sum(ops.mul(y, gy)).backward();

for (const kernel of cpuKernels) describe(`${kernel} kernels`, () => {
  useCpuKernel(kernel);

  describe('conv2d', () => {
    for (const name of ['conv_pad1', 'conv_stride2_nopad', 'conv_rect', 'conv_1x1']) {
      it(name, () => {
        const { t, config } = torchFixture(name);
        const x = leaf(t.x!);
        const w = leaf(t.w!);
        const b = t.b ? leaf(t.b) : null;
        const y = ops.conv2d(x, w, b, { stride: config.stride as [number, number], padding: config.padding as [number, number] });
        expect(y.shape).toEqual(t.y!.shape);
        expectClose(y, t.y!, 1e-5, 'y');
        backwardWith(y, t.gy!);
        expectClose(x.grad, t.gx!, 1e-5, 'dx');
        expectClose(w.grad, t.gw!, 1e-5, 'dw');
        if (b) expectClose(b.grad, t.gb!, 1e-5, 'db');
      });
    }
  });

  describe('maxPool2d', () => {
    for (const name of ['pool_k2_odd', 'pool_k3_s2', 'pool_rect']) {
      it(name, () => {
        const { t, config } = torchFixture(name);
        const x = leaf(t.x!);
        const y = ops.maxPool2d(x, config.kernel as [number, number], config.stride as [number, number]);
        expect(y.shape).toEqual(t.y!.shape);
        expectClose(y, t.y!, 0, 'y');
        backwardWith(y, t.gy!);
        expectClose(x.grad, t.gx!, 0, 'dx');
        // without a gradient to route, the inference path (no argmax) gives the same values
        expectClose(noGrad(() => ops.maxPool2d(tensor(t.x!.toArray(), t.x!.shape), config.kernel as [number, number], config.stride as [number, number])), t.y!, 0, 'y without grad');
      });
    }
    it('the inference path propagates NaN as PyTorch does', () => {
      const v = new Float32Array(2 * 5 * 6).map((_, i) => Math.sin(i));
      v[7] = Number.NaN;
      const x = tensor(v, [1, 2, 5, 6]);
      const plain = noGrad(() => ops.maxPool2d(x, 2)).toArray();
      const traced = ops.maxPool2d(leaf(x), 2).toArray();
      expect(Array.from(plain).map(String)).toEqual(Array.from(traced).map(String));
      expect(Number.isNaN(plain[0]!)).toBe(true); // input (0, 1, 1) is in output (0, 0)
      expect(plain.filter(Number.isNaN).length).toBe(1);
    });
  });

  describe('BatchNorm2d', () => {
    for (const name of ['bn_train', 'bn_batch1']) {
      it(`${name}: train forward/backward, running statistics, eval forward/backward`, () => {
        const { t } = torchFixture(name);
        const { t: tp } = torchFixture(`${name}_params`);
        const c = t.weight!.size;
        const bn = new nn.BatchNorm2d(c);
        bn.loadStateDict({ ...bn.stateDict(), weight: t.weight!, bias: t.bias! });
        const x1 = leaf(t.x1!);
        const y = bn.forward(x1);
        expectClose(y, t.y!, 1e-5, 'y');
        backwardWith(y, t.gy!);
        expectClose(x1.grad, t.gx!, 1e-5, 'dx');
        expectClose(bn.weight.grad, tp.gw!, 1e-5, 'dγ');
        expectClose(bn.bias.grad, tp.gb!, 1e-5, 'dβ');
        expectClose(bn.runningMean, t.rm1!, 1e-6, 'running_mean after 1');
        expectClose(bn.runningVar, t.rv1!, 1e-6, 'running_var after 1 (unbiased)');
        bn.forward(t.x2!);
        expectClose(bn.runningMean, t.rm2!, 1e-6, 'running_mean after 2');
        expectClose(bn.runningVar, t.rv2!, 1e-6, 'running_var after 2');
        expect(bn.numBatchesTracked.item()).toBe(2);

        bn.eval();
        bn.zeroGrad();
        const x3 = leaf(t.x3!);
        const y3 = bn.forward(x3);
        expectClose(y3, t.y3!, 1e-5, 'eval y');
        backwardWith(y3, t.gy3!);
        expectClose(x3.grad, t.gx3!, 1e-5, 'eval dx');
        expectClose(bn.weight.grad, t.gw3!, 1e-5, 'eval dγ');
        expectClose(bn.bias.grad, t.gb3!, 1e-5, 'eval dβ');
      });
    }
  });

  describe('linear and matmul', () => {
    it('linear', () => {
      const { t } = torchFixture('linear');
      const [x, w, b] = [leaf(t.x!), leaf(t.w!), leaf(t.b!)];
      const y = ops.linear(x, w, b);
      expectClose(y, t.y!, 1e-6, 'y');
      backwardWith(y, t.gy!);
      expectClose(x.grad, t.gx!, 1e-6, 'dx');
      expectClose(w.grad, t.gw!, 1e-6, 'dw');
      expectClose(b.grad, t.gb!, 1e-6, 'db');
    });
    for (const name of ['matmul2d', 'matmul3d']) {
      it(name, () => {
        const { t } = torchFixture(name);
        const [a, b] = [leaf(t.a!), leaf(t.b!)];
        const y = ops.matmul(a, b);
        expect(y.shape).toEqual(t.y!.shape);
        expectClose(y, t.y!, 1e-6, 'y');
        backwardWith(y, t.gy!);
        expectClose(a.grad, t.ga!, 1e-6, 'da');
        expectClose(b.grad, t.gb!, 1e-6, 'db');
      });
    }
  });

  describe('elementwise, reductions, softmax', () => {
    it('broadcasting arithmetic and unary ops', () => {
      const { t } = torchFixture('elementwise');
      const [p, q] = [leaf(t.p!), leaf(t.q!)];
      const { add, sub, mul, div, exp, log, sqrt, tanh, sigmoid, pow } = ops;
      // ((p+q)·p − q/(p²+1)).exp().log1p() + √q·tanh p − σ(q)·p³
      const inner = sub(mul(add(p, q), p), div(q, add(mul(p, p), 1)));
      const y = sub(add(log(add(exp(inner), 1)), mul(sqrt(q), tanh(p))), mul(sigmoid(q), pow(p, 3)));
      expect(y.shape).toEqual([3, 2, 4]);
      expectClose(y, t.y!, 1e-5, 'y');
      backwardWith(y, t.gy!);
      expectClose(p.grad, t.gp!, 1e-5, 'dp');
      expectClose(q.grad, t.gq!, 1e-5, 'dq (summed over broadcast dims)');
    });
    it('sum and mean over axes', () => {
      const { t } = torchFixture('reduce');
      const x = leaf(t.x!);
      const s1 = ops.sum(x, 1);
      const m02 = ops.mean(x, [0, 2], true);
      expect(m02.shape).toEqual([1, 3, 1]);
      expectClose(s1, t.sum1!, 1e-6, 'sum');
      expectClose(m02, t.mean02!, 1e-6, 'mean');
      ops.add(ops.sum(ops.mul(s1, t.g1!)), ops.sum(ops.mul(m02, t.g2!))).backward();
      expectClose(x.grad, t.gx!, 1e-6, 'dx');
    });
    it('logSoftmax and softmax', () => {
      const { t } = torchFixture('softmax');
      const x = leaf(t.x!);
      const ls = ops.logSoftmax(x, 1);
      const sm = ops.softmax(x, 1);
      expectClose(ls, t.logsoftmax!, 1e-6, 'logSoftmax');
      expectClose(sm, t.softmax!, 1e-6, 'softmax');
      ops.add(ops.sum(ops.mul(ls, t.g1!)), ops.sum(ops.mul(sm, t.g2!))).backward();
      expectClose(x.grad, t.gx!, 1e-5, 'dx');
    });
    for (const name of ['xent_weighted', 'xent_weighted_smooth']) {
      it(`crossEntropy with class weights (${name})`, () => {
        const { t, config } = torchFixture(name);
        const x = leaf(t.x!);
        const target = Array.from(t.target!.toArray());
        const opts = { labelSmoothing: config.labelSmoothing as number, weight: t.weight!.toArray() };
        const loss = ops.crossEntropy(x, target, opts);
        expectClose([loss.item()], t.loss!, 1e-6, 'loss');
        loss.backward();
        expectClose(x.grad, t.gx!, 1e-5, 'dx');
        expectClose(ops.crossEntropy(t.x!, target, { ...opts, reduction: 'none' }), t.per_sample!, 1e-6, 'per sample');
      });
    }
    for (const name of ['xent_soft', 'xent_soft_weighted', 'xent_soft_weighted_smooth']) {
      it(`crossEntropy with class-probability targets (${name})`, () => {
        const { t, config } = torchFixture(name);
        const x = leaf(t.x!);
        const opts = { labelSmoothing: config.labelSmoothing as number, weight: config.weighted ? t.weight!.toArray() : undefined };
        const loss = ops.crossEntropy(x, t.target!, opts);
        expectClose([loss.item()], t.loss!, 1e-6, 'loss');
        loss.backward();
        expectClose(x.grad, t.gx!, 1e-5, 'dx');
        expectClose(ops.crossEntropy(t.x!, t.target!, { ...opts, reduction: 'none' }), t.per_sample!, 1e-6, 'per sample');
      });
    }
    it('crossEntropy refuses probability targets that do not fit', () => {
      const x = tensor(new Float32Array(6), [2, 3]);
      expect(() => ops.crossEntropy(x, tensor(new Float32Array(3), [1, 3]))).toThrow(/must be \[2, 3\] like the logits, got \[1, 3\]/);
      expect(() => ops.crossEntropy(x, tensor([0.5, 0.5, 0, 0, -1, 2], [2, 3]))).toThrow(/-1 at \[1, 1\]/);
    });
    it('crossEntropy refuses class weights that do not fit', () => {
      const x = tensor(new Float32Array(6), [2, 3]);
      expect(() => ops.crossEntropy(x, [0, 1], { weight: [1, 1] })).toThrow(/2 class weights for 3 classes/);
      expect(() => ops.crossEntropy(x, [0, 1], { weight: [1, -1, 1] })).toThrow(/class weight 1 is -1/);
      expect(() => ops.crossEntropy(x, [0, 0], { weight: [0, 1, 1] })).toThrow(/sum to 0/);
    });
    for (const name of ['xent', 'xent_smooth']) {
      it(`crossEntropy (${name})`, () => {
        const { t, config } = torchFixture(name);
        const x = leaf(t.x!);
        const loss = ops.crossEntropy(x, Array.from(t.target!.toArray()), { labelSmoothing: config.labelSmoothing as number });
        expect(loss.shape).toEqual([]);
        expectClose([loss.item()], t.loss!, 1e-6, 'loss');
        loss.backward();
        expectClose(x.grad, t.gx!, 1e-5, 'dx');
      });
    }
  });

  describe('optimisers over five steps', () => {
    const make: Record<string, (p: Tensor[]) => optim.Optimizer> = {
      adam: (p) => new optim.Adam(p, { lr: 5e-4 }),
      adam_wd: (p) => new optim.Adam(p, { lr: 1e-2, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1 }),
      adamw: (p) => new optim.AdamW(p, { lr: 1e-2, weightDecay: 0.05 }),
      sgd_momentum: (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 }),
      sgd_nesterov: (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true }),
    };
    for (const [name, factory] of Object.entries(make)) {
      it(name, () => {
        const { t } = torchFixture(`optim_${name}`);
        const p = leaf(t.p0!);
        const opt = factory([p]);
        for (let i = 1; i <= 5; i++) {
          p.grad = t[`g${i}`]!;
          opt.step();
          expectClose(p, t[`p${i}`]!, 1e-6, `${name} step ${i}`);
        }
      });
    }
  });
});

describe('the fixtures', () => {
  it('each records the PyTorch version that made it', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { loadSafetensors } = await import('../../src/nn/safetensors.js');
    const dir = new URL('../fixtures/torch/', import.meta.url);
    const versions = new Set(readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => loadSafetensors(readFileSync(new URL(f, dir))).metadata.torch));
    expect([...versions]).toEqual(['1.13.0a0']);
  });
});
