/** The WebAssembly SIMD micro-kernel against the JavaScript one, and the bytes that assemble it. */
import { afterAll, describe, expect, it } from 'vitest';
import { relaxedSimdAvailable, relaxedSimdEnabled, setRelaxedSimd, setSimd, simdAvailable, simdEnabled } from '../../src/index.js';
import type { Conv2dGeometry } from '../../src/tensor/backend.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dMaxPool2 } from '../../src/tensor/cpu/conv.js';
import { batchNormBackward, batchNormTrain } from '../../src/tensor/cpu/batchnorm.js';
import { maxPool2d, maxPool2dInfer } from '../../src/tensor/cpu/pool.js';
import { markWritten } from '../../src/tensor/cpu/wasm/resident.js';
import { gemmNT, packColPanels, packRowPanels, packedProduct } from '../../src/tensor/cpu/gemm.js';
import { sleb, uleb } from '../../src/wasm/emit.js';
import { relError } from '../helpers/fixtures.js';
import { lcg } from '../helpers/lcg.js';

describe('LEB128', () => {
  it('encodes as the WebAssembly spec’s examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe.runIf(simdAvailable())('SIMD GEMM micro-kernel against the JavaScript one', () => {
  afterAll(() => setSimd(true));

  it('is on by default where available, and can be turned off', () => {
    expect(simdEnabled()).toBe(true);
    setSimd(false);
    expect(simdEnabled()).toBe(false);
    setSimd(true);
  });

  /** C (+)= A·B through both kernels, packed the same way into each one's packed product. */
  function both(m: number, k: number, n: number, accumulate: boolean, rowBias: Float32Array | null = null) {
    const A = lcg(m * k, m + k, 1);
    const B = lcg(k * n, n, 1);
    const ldc = n + 3; // a row stride wider than the product: nothing past column n may be touched
    const out = (simd: boolean) => {
      setSimd(simd);
      const p = packedProduct(m, k, n);
      packRowPanels(A, 0, m, k, p.A);
      packColPanels(B, 0, k, n, p.B);
      const C = lcg(m * ldc, 99, 1);
      p.multiply(C, 0, ldc, m, k, n, accumulate, rowBias);
      return C;
    };
    const js = out(false);
    const wasm = out(true);
    return { js, wasm };
  }

  for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [4, 4, 4], [5, 9, 13], [16, 9, 33], [33, 144, 70], [8, 300, 12]]) {
    for (const accumulate of [false, true]) {
      it(`${m}×${k} · ${k}×${n}${accumulate ? ', accumulating' : ''}`, () => {
        const { js, wasm } = both(m, k, n, accumulate);
        expect(relError(wasm, js)).toBeLessThan(1e-6);
      });
    }
  }

  it('adds a per-row bias (the convolution bias) while writing the product out', () => {
    const bias = lcg(6, 7, 1);
    const { js, wasm } = both(6, 10, 21, false, bias);
    expect(relError(wasm, js)).toBeLessThan(1e-6);
    const plain = both(6, 10, 21, false);
    expect(Math.abs(wasm[0]! - plain.wasm[0]! - bias[0]!)).toBeLessThan(1e-6);
    expect(Math.abs(wasm[5 * 24 + 20]! - plain.wasm[5 * 24 + 20]! - bias[5]!)).toBeLessThan(1e-6);
  });

  for (const [m, k, n, lda, ldb] of [[7, 50, 9, 61, 57], [1, 6720, 13, 6720, 6720], [3, 10, 5, 12, 11], [2, 3, 4, 3, 3], [1, 4, 1, 4, 4]]) {
    it(`gemmNT ${m}×${k} · (${n}×${k})ᵀ, strided operands (${m < 4 ? 'one SIMD gemv per row' : 'packed'})`, () => {
      const A = lcg(m * lda + 2, 3, 1);
      const B = lcg(n * ldb + 3, 4, 1);
      const run = (simd: boolean) => {
        setSimd(simd);
        const C = lcg(m * n, 5, 1);
        gemmNT(A, 2, lda, B, 3, ldb, C, 0, m, k, n, true);
        return C;
      };
      expect(relError(run(true), run(false))).toBeLessThan(1e-6);
    });
  }
});

describe.runIf(simdAvailable())('direct stride-1 SIMD convolution against im2col + GEMM', () => {
  afterAll(() => setSimd(true));

  const geometry = (batch: number, inC: number, inH: number, inW: number, outC: number, kH: number, kW: number, padH: number, padW: number): Conv2dGeometry => ({
    batch, inC, inH, inW, outC, kH, kW, strideH: 1, strideW: 1, padH, padW,
    outH: inH + 2 * padH - kH + 1, outW: inW + 2 * padW - kW + 1,
  });
  // the EmotionCNN's four (conv1 with and without Δ/ΔΔ, conv2, conv3), the Δ filter (1×9), and
  // odd ones: output widths that are not multiples of 4 or 8, fewer than 4 output channels, no
  // padding, more padding than the kernel needs on one side, a 1-wide image, batches
  const cases: [string, Conv2dGeometry][] = [
    ['conv1', geometry(1, 1, 40, 174, 16, 3, 3, 1, 1)],
    ['conv1 with Δ and ΔΔ', geometry(2, 3, 40, 174, 16, 3, 3, 1, 1)],
    ['conv2', geometry(1, 16, 20, 87, 32, 3, 3, 1, 1)],
    ['conv3', geometry(2, 32, 10, 43, 64, 3, 3, 1, 1)],
    ['Δ filter 1×9', geometry(1, 1, 40, 174, 1, 1, 9, 0, 4)],
    ['2×3 kernel, padding 0 and 2', geometry(3, 4, 5, 6, 7, 2, 3, 0, 2)],
    ['5×5, no padding', geometry(1, 2, 9, 11, 5, 5, 5, 0, 0)],
    ['3×1 on a 1-wide image', geometry(1, 2, 3, 1, 3, 3, 1, 1, 0)],
    ['1×1', geometry(2, 6, 4, 9, 10, 1, 1, 0, 0)],
  ];
  for (const [name, g] of cases) {
    it(`${name}: forward (with bias), input and weight gradients`, () => {
      setSimd(true);
      const x = lcg(g.batch * g.inC * g.inH * g.inW, 11, 1);
      const w = lcg(g.outC * g.inC * g.kH * g.kW, 12, 1);
      const bias = lcg(g.outC, 13, 1);
      const gy = lcg(g.batch * g.outC * g.outH * g.outW, 14, 1);
      const y = conv2d(x, w, bias, g);
      const yRef = conv2d(x, w, bias, g, 'im2col');
      expect(y.length).toBe(yRef.length);
      expect(relError(y, yRef)).toBeLessThan(2e-6);
      const dx = conv2dBackwardInput(gy, w, g);
      const dxRef = conv2dBackwardInput(gy, w, g, 'im2col');
      expect(dx.length).toBe(dxRef.length);
      expect(relError(dx, dxRef)).toBeLessThan(2e-6);
      const dw = conv2dBackwardWeight(gy, x, g);
      const dwRef = conv2dBackwardWeight(gy, x, g, 'im2col');
      expect(dw.length).toBe(dwRef.length);
      // sums over every output position (6960 on conv1) in float32, in two different orders
      expect(relError(dw, dwRef)).toBeLessThan(1e-5);
      // and the same without a bias: no stale bias left in the kernel's memory
      expect(relError(conv2d(x, w, null, g), conv2d(x, w, null, g, 'im2col'))).toBeLessThan(2e-6);
    });
  }

  /** conv, then 2×2 max-pool, then ReLU (x > 0 ? x : 0), step by step on the im2col path. */
  function convPoolReluReference(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, relu: boolean) {
    const pooled = maxPool2dInfer(conv2d(x, w, bias, g, 'im2col'), {
      batch: g.batch, channels: g.outC, inH: g.outH, inW: g.outW, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: g.outH >> 1, outW: g.outW >> 1,
    });
    return relu ? pooled.map((v) => (v > 0 ? v : 0)) : pooled;
  }
  for (const [name, g] of cases.filter(([, g]) => g.outH >= 2 && g.outW >= 2)) {
    for (const relu of [true, false]) {
      it(`${name}: fused with 2×2 max-pool${relu ? ' and ReLU' : ''} as the three steps`, () => {
        setSimd(true);
        const x = lcg(g.batch * g.inC * g.inH * g.inW, 21, 1);
        const w = lcg(g.outC * g.inC * g.kH * g.kW, 22, 1);
        const bias = lcg(g.outC, 23, 1);
        const y = conv2dMaxPool2(x, w, bias, g, relu);
        const ref = convPoolReluReference(x, w, bias, g, relu);
        expect(y.length).toBe(g.batch * g.outC * (g.outH >> 1) * (g.outW >> 1));
        expect(relError(y, ref)).toBeLessThan(2e-6);
        if (relu) expect(Math.min(...y)).toBe(0);
      });
    }
  }

  it('fused pooling: NaN propagates through the max and ReLU maps it to 0, as the separate ops do', () => {
    const g = geometry(1, 1, 4, 9, 1, 1, 1, 0, 0); // 1×1 kernel of weight 1: the output is the input
    const x = lcg(36, 24, 1);
    x[0] = NaN; // pooled output (0, 0)
    const w = new Float32Array([1]);
    const plain = conv2dMaxPool2(x, w, null, g, false);
    expect(Number.isNaN(plain[0]!)).toBe(true);
    expect(plain.slice(1).every((v) => !Number.isNaN(v))).toBe(true);
    const rectified = conv2dMaxPool2(x, w, null, g, true);
    expect(rectified[0]).toBe(0);
    expect(relError(rectified, convPoolReluReference(x, w, null, g, true))).toBe(0);
  });

  it('writes every output and nothing else: a NaN input stays in its receptive field', () => {
    const g = geometry(1, 2, 6, 10, 5, 3, 3, 1, 1);
    const x = lcg(2 * 6 * 10, 15, 1);
    x[1 * 60 + 2 * 10 + 9] = NaN; // channel 1, row 2, last column
    const y = conv2d(x, lcg(5 * 18, 16, 1), null, g);
    for (let co = 0; co < 5; co++) {
      for (let oh = 0; oh < 6; oh++) {
        for (let ow = 0; ow < 10; ow++) {
          const reaches = Math.abs(oh - 2) <= 1 && ow >= 8;
          expect(Number.isNaN(y[(co * 6 + oh) * 10 + ow]!), `${co},${oh},${ow}`).toBe(reaches);
        }
      }
    }
  });
});

describe.runIf(simdAvailable())('Winograd F(2×2, 3×3) against im2col + GEMM', () => {
  afterAll(() => setSimd(true));

  const geometry = (batch: number, inC: number, inH: number, inW: number, outC: number, pad: number): Conv2dGeometry => ({
    batch, inC, inH, inW, outC, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: pad, padW: pad,
    outH: inH + 2 * pad - 2, outW: inW + 2 * pad - 2,
  });
  // conv2 and conv3 (where 'auto' picks it), and odd ones: fewer channels than 'auto' asks for, odd
  // output heights and widths (a last tile half outside), tiles per row not a multiple of 4, output
  // channels not a multiple of 4, no padding, padding 2, a 2-wide output, batches
  const cases: [string, Conv2dGeometry][] = [
    ['conv2', geometry(1, 16, 20, 87, 32, 1)],
    ['conv3', geometry(2, 32, 10, 43, 64, 1)],
    ['conv1 with Δ and ΔΔ', geometry(1, 3, 40, 174, 16, 1)],
    ['odd sizes, no padding', geometry(1, 4, 7, 9, 6, 0)],
    ['padding 2, 3 output channels', geometry(3, 9, 5, 13, 3, 2)],
    ['a 3×2 output', geometry(2, 8, 3, 2, 5, 1)],
  ];
  for (const [name, g] of cases) {
    it(`${name}: forward with bias, and fused with 2×2 max-pool and ReLU`, () => {
      setSimd(true);
      const x = lcg(g.batch * g.inC * g.inH * g.inW, 31, 1);
      const w = lcg(g.outC * g.inC * 9, 32, 1);
      const bias = lcg(g.outC, 33, 1);
      const y = conv2d(x, w, bias, g, 'winograd');
      const ref = conv2d(x, w, bias, g, 'im2col');
      expect(y.length).toBe(ref.length);
      expect(relError(y, ref)).toBeLessThan(2e-6);
      expect(relError(conv2d(x, w, null, g, 'winograd'), conv2d(x, w, null, g, 'im2col'))).toBeLessThan(2e-6);
      if (g.outH >= 2 && g.outW >= 2) {
        for (const relu of [true, false]) {
          const pooled = conv2dMaxPool2(x, w, bias, g, relu, 'winograd');
          expect(pooled.length).toBe(g.batch * g.outC * (g.outH >> 1) * (g.outW >> 1));
          expect(relError(pooled, conv2dMaxPool2(x, w, bias, g, relu, 'im2col'))).toBeLessThan(2e-6);
        }
      }
    });
  }

  for (const [name, g] of cases) {
    it(`${name}: weight gradient`, () => {
      setSimd(true);
      const x = lcg(g.batch * g.inC * g.inH * g.inW, 39, 1);
      const gy = lcg(g.batch * g.outC * g.outH * g.outW, 40, 1);
      const dw = conv2dBackwardWeight(gy, x, g, 'winograd');
      const ref = conv2dBackwardWeight(gy, x, g, 'im2col');
      expect(dw.length).toBe(ref.length);
      // sums over every tile (and over the batch) in float32, in another order than im2col's
      expect(relError(dw, ref)).toBeLessThan(1e-5);
    });
  }

  it('is what auto picks for conv2 and conv3, their input gradients (a convolution too) and weight gradients', () => {
    setSimd(true);
    for (const g of [cases[0]![1], cases[1]![1]]) {
      const x = lcg(g.batch * g.inC * g.inH * g.inW, 34, 1);
      const w = lcg(g.outC * g.inC * 9, 35, 1);
      const gy = lcg(g.batch * g.outC * g.outH * g.outW, 36, 1);
      expect(conv2d(x, w, null, g)).toEqual(conv2d(x, w, null, g, 'winograd'));
      expect(relError(conv2dBackwardInput(gy, w, g), conv2dBackwardInput(gy, w, g, 'im2col'))).toBeLessThan(2e-6);
      expect(conv2dBackwardWeight(gy, x, g)).toEqual(conv2dBackwardWeight(gy, x, g, 'winograd'));
    }
  });

  it('a weight changed between calls is transformed again (nothing stale kept from the last call)', () => {
    setSimd(true);
    const g = cases[0]![1];
    const x = lcg(g.inC * g.inH * g.inW, 37, 1);
    const w = lcg(g.outC * g.inC * 9, 38, 1);
    conv2dMaxPool2(x, w, null, g, true, 'winograd');
    w[5] += 1;
    expect(relError(conv2dMaxPool2(x, w, null, g, true, 'winograd'), conv2dMaxPool2(x, w, null, g, true, 'im2col'))).toBeLessThan(2e-6);
  });

  it('refuses kernels it does not compute', () => {
    const g: Conv2dGeometry = { ...cases[0]![1], kH: 5, kW: 5, outH: 16, outW: 83, padH: 0, padW: 0 };
    expect(() => conv2d(lcg(16 * 20 * 87, 1, 1), lcg(32 * 16 * 25, 2, 1), null, g, 'winograd')).toThrow(/3×3/);
  });
});

describe.runIf(simdAvailable())('training-mode batch norm in SIMD against the JavaScript loops', () => {
  afterAll(() => setSimd(true));
  // the EmotionCNN's three (planes of 6960, 1740 and 430 values: 430 leaves a tail of 2), and
  // planes of 7, 1 and 6 values (tails of 3, 1 and 2; one with no whole group of four)
  for (const [n, c, hw] of [[4, 16, 6960], [3, 32, 1740], [2, 64, 430], [3, 5, 7], [2, 3, 1], [1, 4, 6]] as const) {
    it(`[${n}, ${c}, ${hw}]: statistics, output and all three gradients bit for bit`, () => {
      const x = lcg(n * c * hw, 61, 3);
      const gamma = lcg(c, 62, 1);
      const beta = lcg(c, 63, 1);
      const gy = lcg(n * c * hw, 64, 1);
      const run = (simd: boolean) => {
        setSimd(simd);
        const f = batchNormTrain(x, gamma, beta, n, c, hw, 1e-5);
        const b = batchNormBackward(gy, x, gamma, f.mean, f.varBiased, n, c, hw, 1e-5);
        return [f.out, f.mean, f.varBiased, b.gx, b.gGamma, b.gBeta];
      };
      const js = run(false);
      const simd = run(true);
      js.forEach((a, i) => expect(simd[i]).toEqual(a));
      // and without γ and β (affine off)
      setSimd(false);
      const plain = batchNormTrain(x, null, null, n, c, hw, 1e-5).out;
      setSimd(true);
      expect(batchNormTrain(x, null, null, n, c, hw, 1e-5).out).toEqual(plain);
    });
  }
});

describe.runIf(simdAvailable())('training max-pool (2×2, argmax) in SIMD against the JavaScript loop', () => {
  afterAll(() => setSimd(true));
  const geometry = (batch: number, channels: number, inH: number, inW: number) => ({
    batch, channels, inH, inW, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: inH >> 1, outW: inW >> 1,
  });
  // the EmotionCNN's three inputs (pooled widths 87, 43, 21: tails of 3, 3 and 1), a width whose
  // pooled rows are whole vectors, odd heights, and rows narrower than one vector
  for (const g of [geometry(2, 16, 40, 174), geometry(2, 32, 20, 87), geometry(3, 64, 10, 43), geometry(1, 3, 5, 16), geometry(2, 2, 7, 6)]) {
    it(`[${g.batch}, ${g.channels}, ${g.inH}, ${g.inW}]: the same maxima and indices, ties and NaN included`, () => {
      const x = lcg(g.batch * g.channels * g.inH * g.inW, 71, 1);
      // ties (equal values in a window), NaN first, NaN after a larger value, two NaNs
      for (let i = 0; i + 3 < x.length; i += 37) x[i + 1] = x[i]!;
      for (let i = 5; i < x.length; i += 101) x[i] = NaN;
      for (let i = 9; i + 1 < x.length; i += 211) x[i] = x[i + 1] = NaN;
      const run = (simd: boolean) => {
        setSimd(simd);
        const { out, argmax } = maxPool2d(x, g);
        return { out, argmax };
      };
      const js = run(false);
      const simd = run(true);
      expect(simd.argmax).toEqual(js.argmax);
      expect(simd.out).toEqual(js.out);
    });
  }
});

describe.runIf(simdAvailable())('weights resident in WebAssembly memory (one-row products with a large weight)', () => {
  const k = 700, n = 100; // 70 000 floats: above the size that stays resident
  const product = (a: Float32Array, w: Float32Array) => {
    const c = new Float32Array(n);
    gemmNT(a, 0, k, w, 0, k, c, 0, 1, k, n, false);
    return c;
  };
  const reference = (a: Float32Array, w: Float32Array) => {
    setSimd(false);
    const c = product(a, w);
    setSimd(true);
    return c;
  };

  it('gives the copied product, call after call, for more weights than it keeps (least recently used goes)', () => {
    setSimd(true);
    const weights = [0, 1, 2, 3, 4, 5].map((i) => lcg(n * k, 30 + i, 1));
    const a = lcg(k, 40, 1);
    for (let round = 0; round < 3; round++) {
      for (const w of [...weights, weights[0]!, weights[5]!]) expect(relError(product(a, w), reference(a, w))).toBeLessThan(1e-6);
    }
  });

  it('sees a weight written in place once the writer says so (the optimisers do, every step)', () => {
    setSimd(true);
    const w = lcg(n * k, 50, 1);
    const a = lcg(k, 51, 1);
    expect(relError(product(a, w), reference(a, w))).toBeLessThan(1e-6);
    w.fill(0.5, 0, k); // row 0 changes
    markWritten();
    const after = product(a, w);
    expect(relError(after, reference(a, w))).toBeLessThan(1e-6);
    expect(Math.abs(after[0]! - 0.5 * a.reduce((s, v) => s + v, 0))).toBeLessThan(1e-3);
  });

  it('an Adam step on a Linear layer is seen by the next eval forward pass', async () => {
    const { nn, optim, noGrad, randn, manualSeed, ops } = await import('../../src/index.js');
    manualSeed(7);
    const fc = new nn.Linear(6720, 16);
    const x = randn([1, 6720]);
    const before = noGrad(() => fc.forward(x)).toArray();
    const opt = new optim.Adam(fc.parameters(), { lr: 0.1 });
    ops.sum(fc.forward(x)).backward();
    opt.step();
    const after = noGrad(() => fc.forward(x)).toArray();
    const expected = noGrad(() => ops.add(ops.matmul(x, ops.transpose(fc.weight, 0, 1)), fc.bias!)).toArray();
    expect(relError(after, expected)).toBeLessThan(1e-5);
    expect(relError(after, before)).toBeGreaterThan(1e-2);
  });
});

describe('relaxed SIMD (fused multiply-add) kernels', () => {
  it.runIf(process.env.SER_TS_TEST_RELAXED === '1')('are on in the run that enables them (vitest project relaxed)', () => {
    expect(relaxedSimdAvailable()).toBe(true);
    expect(relaxedSimdEnabled()).toBe(true);
  });

  it.runIf(!relaxedSimdAvailable())('cannot be switched on where the engine lacks them', () => {
    expect(() => setRelaxedSimd(true)).toThrow(/no relaxed SIMD/);
    expect(relaxedSimdEnabled()).toBe(false);
  });

  it.runIf(relaxedSimdAvailable())('agree with the plain SIMD kernels: GEMM, direct convolution and its gradients, fused pooling', () => {
    setSimd(true);
    const g: Conv2dGeometry = { batch: 2, inC: 16, inH: 20, inW: 87, outC: 32, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 20, outW: 87 };
    const x = lcg(2 * 16 * 20 * 87, 61, 1);
    const w = lcg(32 * 16 * 9, 62, 1);
    const b = lcg(32, 63, 1);
    const gy = lcg(2 * 32 * 20 * 87, 64, 1);
    const A = lcg(33 * 144, 65, 1);
    const B = lcg(144 * 70, 66, 1);
    const run = (relaxed: boolean) => {
      setRelaxedSimd(relaxed);
      const p = packedProduct(33, 144, 70);
      packRowPanels(A, 0, 33, 144, p.A);
      packColPanels(B, 0, 144, 70, p.B);
      const C = new Float32Array(33 * 70);
      p.multiply(C, 0, 70, 33, 144, 70, false);
      return [C, conv2d(x, w, b, g), conv2dBackwardInput(gy, w, g), conv2dBackwardWeight(gy, x, g), conv2dMaxPool2(x, w, b, g, true)];
    };
    const fused = run(true);
    const plain = run(false);
    setRelaxedSimd(true);
    fused.forEach((v, i) => expect(relError(v, plain[i]!), `output ${i}`).toBeLessThan(i === 3 ? 1e-5 : 2e-6));
  });
});
