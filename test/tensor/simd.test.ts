/** The WebAssembly SIMD micro-kernel against the JavaScript one, and the bytes that assemble it. */
import { afterAll, describe, expect, it } from 'vitest';
import { setSimd, simdAvailable, simdEnabled } from '../../src/index.js';
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
