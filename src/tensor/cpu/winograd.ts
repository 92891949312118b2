/**
 * Winograd F(2×2, 3×3) for stride-1 3×3 convolutions (Lavin & Gray, 2016): each 2×2 block of
 * outputs comes from a 4×4 input tile as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Summed over input channels
 * the element-wise products become 16 matrix products, M_ξ[outC × tiles] = U_ξ[outC × inC] ·
 * V_ξ[inC × tiles], one per tile position ξ, on the same packed SIMD GEMM as the im2col path.
 *
 * Why it is faster: per 2×2 outputs and channel pair it does 16 multiplications instead of 36
 * (2.25× fewer), and its input transform writes 4 values per output instead of im2col's 9. The
 * transforms' coefficients are 0, ±1 and ±½, so the rounding it adds is a few float32 ulps (the
 * parity tests hold it to PyTorch as they hold im2col). The im2col path in conv.ts
 * (`conv2dLane`) is the plain one it is compared with; `setWinograd(false)` selects it.
 */
import type { Conv2dGeometry } from '../backend.js';
import { packA, packColPanels, packedProduct } from './gemm.js';
import { scratch } from './scratch.js';

let enabled = true;

/** Switches the Winograd path off (true: on, the default), to time or test the im2col path alone. */
export function setWinograd(on: boolean): void {
  enabled = on;
}

export const winogradEnabled = () => enabled;

/** Stride 1, 3×3 kernel, padding of at most 2 (the output must be covered by 4×4 input tiles). */
export function winogradApplies(g: Conv2dGeometry): boolean {
  return enabled && g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 && g.padH <= 2 && g.padW <= 2 && g.outH >= 2 && g.outW >= 2;
}

/** U_ξ = (G g Gᵀ)_ξ for every (outC, inC) pair, laid out [16][outC][inC]. */
function transformWeights(w: Float32Array, outC: number, inC: number): Float32Array {
  const u = scratch('winograd.U', 16 * outC * inC);
  const plane = outC * inC;
  const t = new Float64Array(12); // G·g: 4 rows × 3
  for (let o = 0; o < outC; o++) {
    for (let c = 0; c < inC; c++) {
      const k = (o * inC + c) * 9;
      for (let j = 0; j < 3; j++) {
        const g0 = w[k + j]!, g1 = w[k + 3 + j]!, g2 = w[k + 6 + j]!;
        t[j] = g0;
        t[3 + j] = (g0 + g1 + g2) / 2;
        t[6 + j] = (g0 - g1 + g2) / 2;
        t[9 + j] = g2;
      }
      for (let i = 0; i < 4; i++) {
        const a = t[3 * i]!, b = t[3 * i + 1]!, d = t[3 * i + 2]!;
        const at = o * inC + c;
        u[(4 * i) * plane + at] = a;
        u[(4 * i + 1) * plane + at] = (a + b + d) / 2;
        u[(4 * i + 2) * plane + at] = (a - b + d) / 2;
        u[(4 * i + 3) * plane + at] = d;
      }
    }
  }
  return u;
}

/** V_ξ = (Bᵀ d B)_ξ for every (inC, tile) of one sample, laid out [16][inC][tiles]. */
function transformInput(x: Float32Array, xOff: number, g: Conv2dGeometry, tilesH: number, tilesW: number): Float32Array {
  const { inC, inH, inW, padH, padW } = g;
  const tiles = tilesH * tilesW;
  const v = scratch('winograd.V', 16 * inC * tiles);
  const P = inC * tiles;
  // a tile's 16 inputs read into locals (zero outside the image), transformed in registers
  const at = (base: number, h: number, w: number) => (h >= 0 && h < inH && w >= 0 && w < inW ? x[base + h * inW + w]! : 0);
  for (let c = 0; c < inC; c++) {
    const base = xOff + c * inH * inW;
    for (let th = 0; th < tilesH; th++) {
      const h0 = 2 * th - padH;
      for (let tw = 0; tw < tilesW; tw++) {
        const w0 = 2 * tw - padW;
        let d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33;
        if (h0 >= 0 && w0 >= 0 && h0 + 4 <= inH && w0 + 4 <= inW) {
          let r = base + h0 * inW + w0;
          d00 = x[r]!; d01 = x[r + 1]!; d02 = x[r + 2]!; d03 = x[r + 3]!; r += inW;
          d10 = x[r]!; d11 = x[r + 1]!; d12 = x[r + 2]!; d13 = x[r + 3]!; r += inW;
          d20 = x[r]!; d21 = x[r + 1]!; d22 = x[r + 2]!; d23 = x[r + 3]!; r += inW;
          d30 = x[r]!; d31 = x[r + 1]!; d32 = x[r + 2]!; d33 = x[r + 3]!;
        } else {
          d00 = at(base, h0, w0); d01 = at(base, h0, w0 + 1); d02 = at(base, h0, w0 + 2); d03 = at(base, h0, w0 + 3);
          d10 = at(base, h0 + 1, w0); d11 = at(base, h0 + 1, w0 + 1); d12 = at(base, h0 + 1, w0 + 2); d13 = at(base, h0 + 1, w0 + 3);
          d20 = at(base, h0 + 2, w0); d21 = at(base, h0 + 2, w0 + 1); d22 = at(base, h0 + 2, w0 + 2); d23 = at(base, h0 + 2, w0 + 3);
          d30 = at(base, h0 + 3, w0); d31 = at(base, h0 + 3, w0 + 1); d32 = at(base, h0 + 3, w0 + 2); d33 = at(base, h0 + 3, w0 + 3);
        }
        // Bᵀ d: rows d0 − d2, d1 + d2, d2 − d1, d1 − d3
        const a0 = d00 - d20, a1 = d01 - d21, a2 = d02 - d22, a3 = d03 - d23;
        const b0 = d10 + d20, b1 = d11 + d21, b2 = d12 + d22, b3 = d13 + d23;
        const e0 = d20 - d10, e1 = d21 - d11, e2 = d22 - d12, e3 = d23 - d13;
        const f0 = d10 - d30, f1 = d11 - d31, f2 = d12 - d32, f3 = d13 - d33;
        // (Bᵀ d) B: the same along each row
        const o = c * tiles + th * tilesW + tw;
        v[o] = a0 - a2; v[P + o] = a1 + a2; v[2 * P + o] = a2 - a1; v[3 * P + o] = a1 - a3;
        v[4 * P + o] = b0 - b2; v[5 * P + o] = b1 + b2; v[6 * P + o] = b2 - b1; v[7 * P + o] = b1 - b3;
        v[8 * P + o] = e0 - e2; v[9 * P + o] = e1 + e2; v[10 * P + o] = e2 - e1; v[11 * P + o] = e1 - e3;
        v[12 * P + o] = f0 - f2; v[13 * P + o] = f1 + f2; v[14 * P + o] = f2 - f1; v[15 * P + o] = f1 - f3;
      }
    }
  }
  return v;
}

/** The forward convolution of a 3×3, stride-1 layer by Winograd F(2×2, 3×3); `out` is [batch, outC, outH, outW]. */
export function conv2dWinograd(x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, g: Conv2dGeometry): void {
  const { batch, inC, outC, inH, inW, outH, outW } = g;
  const tilesH = (outH + 1) >> 1;
  const tilesW = (outW + 1) >> 1;
  const tiles = tilesH * tilesW;
  const u = transformWeights(w, outC, inC);
  const m = scratch('winograd.M', 16 * outC * tiles);
  for (let n = 0; n < batch; n++) {
    const v = transformInput(x, n * inC * inH * inW, g, tilesH, tilesW);
    for (let xi = 0; xi < 16; xi++) {
      const p = packedProduct(outC, inC, tiles);
      packA(u, xi * outC * inC, outC, inC, false, p.A);
      packColPanels(v, xi * inC * tiles, inC, tiles, p.B);
      p.multiply(m, xi * outC * tiles, tiles, outC, inC, tiles, false);
    }
    // Y = Aᵀ M A per tile, plus the bias; tiles past the output's edge are cut
    const P = outC * tiles;
    const o0 = n * outC * outH * outW;
    for (let o = 0; o < outC; o++) {
      const b = bias ? bias[o]! : 0;
      const dst = o0 + o * outH * outW;
      for (let th = 0; th < tilesH; th++) {
        const h = 2 * th;
        for (let tw = 0; tw < tilesW; tw++) {
          const k = o * tiles + th * tilesW + tw;
          const m00 = m[k]!, m01 = m[P + k]!, m02 = m[2 * P + k]!, m03 = m[3 * P + k]!;
          const m10 = m[4 * P + k]!, m11 = m[5 * P + k]!, m12 = m[6 * P + k]!, m13 = m[7 * P + k]!;
          const m20 = m[8 * P + k]!, m21 = m[9 * P + k]!, m22 = m[10 * P + k]!, m23 = m[11 * P + k]!;
          const m30 = m[12 * P + k]!, m31 = m[13 * P + k]!, m32 = m[14 * P + k]!, m33 = m[15 * P + k]!;
          // Aᵀ M: rows m0 + m1 + m2 and m1 − m2 − m3; then (·) A along each row
          const s0 = m00 + m10 + m20, s1 = m01 + m11 + m21, s2 = m02 + m12 + m22, s3 = m03 + m13 + m23;
          const t0 = m10 - m20 - m30, t1 = m11 - m21 - m31, t2 = m12 - m22 - m32, t3 = m13 - m23 - m33;
          const c = 2 * tw;
          const row0 = dst + h * outW + c;
          out[row0] = s0 + s1 + s2 + b;
          if (c + 1 < outW) out[row0 + 1] = s1 - s2 - s3 + b;
          if (h + 1 < outH) {
            out[row0 + outW] = t0 + t1 + t2 + b;
            if (c + 1 < outW) out[row0 + outW + 1] = t1 - t2 - t3 + b;
          }
        }
      }
    }
  }
}
