/**
 * The audio front end's two hot loops in WebAssembly SIMD: the resampler's polyphase interpolator
 * (float64 pairs of taps), and the real FFT of fft.ts over two signals at once: each 128-bit register
 * holds the same value of two signals (two STFT frames, two resampler blocks), so every instruction
 * of the scalar algorithm does the work of two. Every step performs the same float64 operations in
 * the same order as the JavaScript one, so results are bit-identical (WebAssembly has no fused
 * multiply-add to change the rounding); tests check exactly that.
 *
 * Layouts: a complex pair is 32 bytes, [re(A), re(B), im(A), im(B)]; twiddle tables are [cos, −sin]
 * pairs of 16 bytes, read with a splat into both lanes.
 */
import { type Bytes, type ValType, type WasmFunction, assemble, f64, i32, op, v128 } from '../wasm/emit.js';
import { simdEnabled } from '../wasm/simd.js';

/** A function whose locals are allocated as its body is written. */
function fn(name: string, params: ValType[], body: (local: (t: ValType) => number) => Bytes[]): WasmFunction {
  const locals: ValType[] = [];
  const code = body((t) => params.length + locals.push(t) - 1);
  return { name, params, locals, body: code };
}

const ld = (ptr: number, off = 0): Bytes[] => [op.get(ptr), op.load(off)];
const splat = (ptr: number, off = 0): Bytes[] => [op.get(ptr), op.load64Splat(off)];
const set = (local: number, code: Bytes[]): Bytes[] => [...code, op.set(local)];
const st = (ptr: number, off: number, code: Bytes[]): Bytes[] => [op.get(ptr), ...code, op.store(off)];
const add = (a: number, b: number): Bytes[] => [op.get(a), op.get(b), op.f64x2Add()];
const sub = (a: number, b: number): Bytes[] => [op.get(a), op.get(b), op.f64x2Sub()];
const mul = (a: number, b: number): Bytes[] => [op.get(a), op.get(b), op.f64x2Mul()];
const bump = (local: number, by: number): Bytes[] => [op.get(local), op.i32(by), op.add(), op.set(local)];
/** (xr + i·xi)·(wr + i·wi) into (pr, pi), as fft.ts computes it: xr·wr − xi·wi, xr·wi + xi·wr. */
const cmul = (xr: number, xi: number, wr: number, wi: number, pr: number, pi: number): Bytes[] => [
  ...mul(xr, wr), ...mul(xi, wi), op.f64x2Sub(), op.set(pr),
  ...mul(xr, wi), ...mul(xi, wr), op.f64x2Add(), op.set(pi),
];
/** A loop that runs `body` while local < limit (i32, unsigned); the body runs at least once. */
const loopWhile = (local: number, limit: number, body: Bytes[]): Bytes[] => [op.loop(), ...body, op.get(local), op.get(limit), op.ltU(), op.brIf(0), op.end()];
/** Shuffles picking lane 0 (or 1) of two f64x2 values: [a0, b0] and [a1, b1]. */
const LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];

/**
 * fft(data, n, tw): in-place forward transform of n (a power of two) complex pairs written in
 * bit-reversed order: fft.ts's Radix2 without its permutation pass.
 */
const fftFunction = fn('fft', [i32, i32, i32], (local) => {
  const DATA = 0, N = 1, TW = 2;
  const [END, SIZE, HB, S, P0, P1, P2, P3, PEND, T1, T2, T1B, T2B] = Array.from({ length: 13 }, () => local(i32));
  const [W1R, W1I, W2R, W2I, X0R, X0I, X1R, X1I, X2R, X2I, X3R, X3I, PR, PI, QR, QI, Y0R, Y0I, Y1R, Y1I] = Array.from({ length: 20 }, () => local(v128));
  // stages 2 and 4 at once: a radix-4 butterfly per four elements, with twiddles 1 and −i
  const firstPass = [
    op.get(DATA), op.set(P0),
    ...loopWhile(P0, END, [
      ...set(X0R, ld(P0, 0)), ...set(X0I, ld(P0, 16)), ...set(X1R, ld(P0, 32)), ...set(X1I, ld(P0, 48)),
      ...set(X2R, ld(P0, 64)), ...set(X2I, ld(P0, 80)), ...set(X3R, ld(P0, 96)), ...set(X3I, ld(P0, 112)),
      // s0 = x0 + x1 (PR, PI), d0 = x0 − x1 (QR, QI), s1 = x2 + x3 (Y0), d1 = x2 − x3 (Y1)
      ...set(PR, add(X0R, X1R)), ...set(PI, add(X0I, X1I)), ...set(QR, sub(X0R, X1R)), ...set(QI, sub(X0I, X1I)),
      ...set(Y0R, add(X2R, X3R)), ...set(Y0I, add(X2I, X3I)), ...set(Y1R, sub(X2R, X3R)), ...set(Y1I, sub(X2I, X3I)),
      ...st(P0, 0, add(PR, Y0R)), ...st(P0, 16, add(PI, Y0I)),
      ...st(P0, 64, sub(PR, Y0R)), ...st(P0, 80, sub(PI, Y0I)),
      ...st(P0, 32, add(QR, Y1I)), ...st(P0, 48, sub(QI, Y1R)),
      ...st(P0, 96, sub(QR, Y1I)), ...st(P0, 112, add(QI, Y1R)),
      ...bump(P0, 128),
    ]),
  ];
  // pointers for a pass at half-size h = size/2: hb = 32h bytes; stage h's twiddles start at entry
  // h − 1, stage 2h's at size − 1
  const passSetup = [
    op.get(SIZE), op.i32(4), op.shl(), op.set(HB),
    op.get(TW), op.get(SIZE), op.i32(3), op.shl(), op.add(), op.i32(16), op.sub(), op.set(T1B),
    op.get(TW), op.get(SIZE), op.i32(4), op.shl(), op.add(), op.i32(16), op.sub(), op.set(T2B),
    op.get(DATA), op.set(S),
  ];
  // two radix-2 stages per pass (half-sizes h and 2h over blocks of 4h), as fft.ts's middle loop
  const doublePass = [
    ...passSetup,
    ...loopWhile(S, END, [
      op.get(S), op.tee(P0), op.get(HB), op.add(), op.set(PEND),
      op.get(T1B), op.set(T1), op.get(T2B), op.set(T2),
      ...loopWhile(P0, PEND, [
        op.get(P0), op.get(HB), op.add(), op.tee(P1), op.get(HB), op.add(), op.tee(P2), op.get(HB), op.add(), op.set(P3),
        ...set(W1R, splat(T1, 0)), ...set(W1I, splat(T1, 8)), ...set(W2R, splat(T2, 0)), ...set(W2I, splat(T2, 8)),
        // stage h: p1 = x1·w1 (PR, PI), p3 = x3·w1 (QR, QI)
        ...set(X1R, ld(P1, 0)), ...set(X1I, ld(P1, 16)), ...set(X3R, ld(P3, 0)), ...set(X3I, ld(P3, 16)),
        ...cmul(X1R, X1I, W1R, W1I, PR, PI),
        ...cmul(X3R, X3I, W1R, W1I, QR, QI),
        ...set(X0R, ld(P0, 0)), ...set(X0I, ld(P0, 16)), ...set(X2R, ld(P2, 0)), ...set(X2I, ld(P2, 16)),
        ...set(Y0R, add(X0R, PR)), ...set(Y0I, add(X0I, PI)), ...set(Y1R, sub(X0R, PR)), ...set(Y1I, sub(X0I, PI)),
        // y2, y3 reuse the x1, x3 registers
        ...set(X1R, add(X2R, QR)), ...set(X1I, add(X2I, QI)), ...set(X3R, sub(X2R, QR)), ...set(X3I, sub(X2I, QI)),
        // stage 2h: u2 = y2·w2 (PR, PI), v3 = y3·w2 (QR, QI); w_{4h}^{k+h} = −i·w_{4h}^k
        ...cmul(X1R, X1I, W2R, W2I, PR, PI),
        ...cmul(X3R, X3I, W2R, W2I, QR, QI),
        ...st(P0, 0, add(Y0R, PR)), ...st(P0, 16, add(Y0I, PI)),
        ...st(P2, 0, sub(Y0R, PR)), ...st(P2, 16, sub(Y0I, PI)),
        ...st(P1, 0, add(Y1R, QI)), ...st(P1, 16, sub(Y1I, QR)),
        ...st(P3, 0, sub(Y1R, QI)), ...st(P3, 16, add(Y1I, QR)),
        ...bump(P0, 32), ...bump(T1, 16), ...bump(T2, 16),
      ]),
      op.get(S), op.get(HB), op.i32(2), op.shl(), op.add(), op.set(S),
    ]),
  ];
  // the last radix-2 stage, when the number of stages is odd
  const lastPass = [
    ...passSetup,
    ...loopWhile(S, END, [
      op.get(S), op.tee(P0), op.get(HB), op.add(), op.set(PEND),
      op.get(T1B), op.set(T1),
      ...loopWhile(P0, PEND, [
        op.get(P0), op.get(HB), op.add(), op.set(P1),
        ...set(W1R, splat(T1, 0)), ...set(W1I, splat(T1, 8)),
        ...set(X1R, ld(P1, 0)), ...set(X1I, ld(P1, 16)),
        ...cmul(X1R, X1I, W1R, W1I, PR, PI),
        ...set(X0R, ld(P0, 0)), ...set(X0I, ld(P0, 16)),
        ...st(P1, 0, sub(X0R, PR)), ...st(P1, 16, sub(X0I, PI)),
        ...st(P0, 0, add(X0R, PR)), ...st(P0, 16, add(X0I, PI)),
        ...bump(P0, 32), ...bump(T1, 16),
      ]),
      op.get(S), op.get(HB), op.i32(1), op.shl(), op.add(), op.set(S),
    ]),
  ];
  return [
    op.get(DATA), op.get(N), op.i32(5), op.shl(), op.add(), op.set(END),
    op.i32(2), op.set(SIZE),
    op.get(N), op.i32(4), op.geU(), op.if(), ...firstPass, op.i32(8), op.set(SIZE), op.end(),
    // while 2·size ≤ n
    op.block(), op.loop(),
    op.get(N), op.get(SIZE), op.i32(1), op.shl(), op.ltU(), op.brIf(1),
    ...doublePass,
    op.get(SIZE), op.i32(2), op.shl(), op.set(SIZE),
    op.br(0), op.end(), op.end(),
    // size ≤ n: one stage left
    op.get(N), op.get(SIZE), op.ltU(), op.eqz(), op.if(), ...lastPass, op.end(),
  ];
});

/**
 * pack(data, rev, win, a, b, h): the real FFT's input, two frames of 2h float64 samples at a and b
 * times the window, as h complex pairs (even samples real, odd imaginary) at their bit-reversed
 * places (rev holds the byte offsets).
 */
const packFunction = fn('pack', [i32, i32, i32, i32, i32, i32], (local) => {
  const DATA = 0, REV = 1, WIN = 2, A = 3, B = 4, H = 5;
  const END = local(i32), DST = local(i32);
  const W = local(v128), VA = local(v128), VB = local(v128);
  return [
    op.get(REV), op.get(H), op.i32(2), op.shl(), op.add(), op.set(END),
    ...loopWhile(REV, END, [
      ...set(W, ld(WIN)),
      ...set(VA, [...ld(A), op.get(W), op.f64x2Mul()]),
      ...set(VB, [...ld(B), op.get(W), op.f64x2Mul()]),
      op.get(DATA), op.get(REV), op.i32Load(), op.add(), op.set(DST),
      ...st(DST, 0, [op.get(VA), op.get(VB), op.shuffle(LOW)]),
      ...st(DST, 16, [op.get(VA), op.get(VB), op.shuffle(HIGH)]),
      ...bump(A, 16), ...bump(B, 16), ...bump(WIN, 16), ...bump(REV, 4),
    ]),
  ];
});

/**
 * untangle(data, rt, spec, h): the h + 1 bins of the real FFT from the complex FFT Z of size h:
 * X_k = E_k + e^{−2πik/n} O_k with E_k = (Z_k + conj Z_{h−k})/2, O_k = (Z_k − conj Z_{h−k})/(2i);
 * rt holds e^{−2πik/n} for k < h.
 */
const untangleFunction = fn('untangle', [i32, i32, i32, i32], (local) => {
  const DATA = 0, RT = 1, SPEC = 2, H = 3;
  const PA = local(i32), PB = local(i32), END = local(i32);
  const [ZR, ZI, BR, BI, ER, EI, OR, OI, WR, WI, HALF] = Array.from({ length: 11 }, () => local(v128));
  return [
    op.get(DATA), op.get(H), op.i32(5), op.shl(), op.add(), op.tee(END), op.set(PB),
    // X_0 = Z_0r + Z_0i, X_h = Z_0r − Z_0i, both real
    ...set(ZR, ld(DATA, 0)), ...set(ZI, ld(DATA, 16)),
    ...st(SPEC, 0, add(ZR, ZI)), ...st(SPEC, 16, [op.zero()]),
    op.get(SPEC), op.get(H), op.i32(5), op.shl(), op.add(), op.set(PA),
    ...st(PA, 0, sub(ZR, ZI)), ...st(PA, 16, [op.zero()]),
    op.f64x2Const(0.5), op.set(HALF),
    op.get(DATA), op.i32(32), op.add(), op.set(PA),
    op.get(PA), op.get(END), op.ltU(), op.if(),
    ...loopWhile(PA, END, [
      ...bump(PB, -32), ...bump(RT, 16), ...bump(SPEC, 32),
      ...set(ZR, ld(PA, 0)), ...set(ZI, ld(PA, 16)), ...set(BR, ld(PB, 0)), ...set(BI, ld(PB, 16)),
      ...set(ER, [...add(ZR, BR), op.get(HALF), op.f64x2Mul()]),
      ...set(EI, [...sub(ZI, BI), op.get(HALF), op.f64x2Mul()]),
      ...set(OR, [...add(ZI, BI), op.get(HALF), op.f64x2Mul()]),
      ...set(OI, [...sub(BR, ZR), op.get(HALF), op.f64x2Mul()]),
      ...set(WR, splat(RT, 0)), ...set(WI, splat(RT, 8)),
      // er + wr·or − wi·oi and ei + wr·oi + wi·or, left to right as in JavaScript
      ...st(SPEC, 0, [op.get(ER), ...mul(WR, OR), op.f64x2Add(), ...mul(WI, OI), op.f64x2Sub()]),
      ...st(SPEC, 16, [op.get(EI), ...mul(WR, OI), op.f64x2Add(), ...mul(WI, OR), op.f64x2Add()]),
      ...bump(PA, 32),
    ]),
    op.end(),
  ];
});

/**
 * power(spec, bins, outA, outB, squared): each bin rounded to complex64, then |X| (squared when
 * asked) as float32, written to two rows: librosa's spectrogram rounding, as spectrum.ts's.
 */
const powerFunction = fn('power', [i32, i32, i32, i32, i32], (local) => {
  const SPEC = 0, BINS = 1, A = 2, B = 3, SQUARED = 4;
  const END = local(i32);
  const R = local(v128), Q = local(v128), P = local(v128);
  const toF32AndBack = [op.f32x4DemoteF64x2Zero(), op.f64x2PromoteLowF32x4()];
  return [
    op.get(SPEC), op.get(BINS), op.i32(5), op.shl(), op.add(), op.set(END),
    ...loopWhile(SPEC, END, [
      ...set(R, [...ld(SPEC, 0), ...toF32AndBack]),
      ...set(Q, [...ld(SPEC, 16), ...toF32AndBack]),
      ...set(P, [...mul(R, R), ...mul(Q, Q), op.f64x2Add(), op.f64x2Sqrt(), ...toF32AndBack]),
      op.get(SQUARED), op.if(), ...set(P, mul(P, P)), op.end(),
      ...set(P, [op.get(P), op.f32x4DemoteF64x2Zero()]),
      op.get(A), op.get(P), op.store32Lane(0),
      op.get(B), op.get(P), op.store32Lane(1),
      ...bump(A, 4), ...bump(B, 4), ...bump(SPEC, 32),
    ]),
  ];
});

/** multiply(spec, filt, bins): X_k ·= F_k, with F one complex value per bin (the same for both signals). */
const multiplyFunction = fn('multiply', [i32, i32, i32], (local) => {
  const SPEC = 0, FILT = 1, BINS = 2;
  const END = local(i32);
  const [XR, XI, FR, FI, PR, PI] = Array.from({ length: 6 }, () => local(v128));
  return [
    op.get(SPEC), op.get(BINS), op.i32(5), op.shl(), op.add(), op.set(END),
    ...loopWhile(SPEC, END, [
      ...set(XR, ld(SPEC, 0)), ...set(XI, ld(SPEC, 16)), ...set(FR, splat(FILT, 0)), ...set(FI, splat(FILT, 8)),
      ...cmul(XR, XI, FR, FI, PR, PI),
      ...st(SPEC, 0, [op.get(PR)]), ...st(SPEC, 16, [op.get(PI)]),
      ...bump(SPEC, 32), ...bump(FILT, 16),
    ]),
  ];
});

/**
 * retangle(spec, rt, data, rev, h): the inverse's first step, Z_k = E_k + i·O_k from the bins
 * (E_k = (X_k + conj X_{h−k})/2, O_k = (X_k − conj X_{h−k})·e^{+2πik/n}/2), stored conjugated
 * (the inverse runs the forward transform on conj Z) at the bit-reversed places.
 */
const retangleFunction = fn('retangle', [i32, i32, i32, i32, i32], (local) => {
  const SPEC = 0, RT = 1, DATA = 2, REV = 3, H = 4;
  const PB = local(i32), END = local(i32), DST = local(i32);
  const [KR, KI, BR, BI, ER, EI, DR, DI, WR, WI, OR, OI, HALF] = Array.from({ length: 13 }, () => local(v128));
  return [
    op.get(SPEC), op.get(H), op.i32(5), op.shl(), op.add(), op.set(PB),
    op.get(REV), op.get(H), op.i32(2), op.shl(), op.add(), op.set(END),
    op.f64x2Const(0.5), op.set(HALF),
    ...loopWhile(REV, END, [
      ...set(KR, ld(SPEC, 0)), ...set(KI, ld(SPEC, 16)), ...set(BR, ld(PB, 0)), ...set(BI, ld(PB, 16)),
      ...set(ER, [...add(KR, BR), op.get(HALF), op.f64x2Mul()]),
      ...set(EI, [...sub(KI, BI), op.get(HALF), op.f64x2Mul()]),
      ...set(DR, [...sub(KR, BR), op.get(HALF), op.f64x2Mul()]),
      ...set(DI, [...add(KI, BI), op.get(HALF), op.f64x2Mul()]),
      ...set(WR, splat(RT, 0)), ...set(WI, [...splat(RT, 8), op.f64x2Neg()]),
      ...set(OR, [...mul(DR, WR), ...mul(DI, WI), op.f64x2Sub()]),
      ...set(OI, [...mul(DR, WI), ...mul(DI, WR), op.f64x2Add()]),
      op.get(DATA), op.get(REV), op.i32Load(), op.add(), op.set(DST),
      ...st(DST, 0, sub(ER, OI)),
      ...st(DST, 16, [...add(EI, OR), op.f64x2Neg()]),
      ...bump(SPEC, 32), ...bump(PB, -32), ...bump(RT, 16), ...bump(REV, 4),
    ]),
  ];
});

/** unpack(data, a, b, h, scale): the inverse's output, conj(Z)·scale, as 2h real samples per signal. */
const unpackFunction = fn('unpack', [i32, i32, i32, i32, f64], (local) => {
  const DATA = 0, A = 1, B = 2, H = 3, SCALE = 4;
  const END = local(i32);
  const S = local(v128), RE = local(v128), IM = local(v128);
  return [
    op.get(SCALE), op.f64x2Splat(), op.set(S),
    op.get(DATA), op.get(H), op.i32(5), op.shl(), op.add(), op.set(END),
    ...loopWhile(DATA, END, [
      ...set(RE, [...ld(DATA, 0), op.get(S), op.f64x2Mul()]),
      ...set(IM, [...ld(DATA, 16), op.f64x2Neg(), op.get(S), op.f64x2Mul()]),
      ...st(A, 0, [op.get(RE), op.get(IM), op.shuffle(LOW)]),
      ...st(B, 0, [op.get(RE), op.get(IM), op.shuffle(HIGH)]),
      ...bump(DATA, 32), ...bump(A, 16), ...bump(B, 16),
    ]),
  ];
});

/**
 * interp(x, table, taps, up, down, out, count, phase): `count` outputs of the polyphase
 * interpolator of resample.ts, all inside the signal: output m reads taps samples from x (which
 * advances by one sample each time the phase passes `up`) against row `phase` of the table. Four
 * running sums, [0, 1] and [2, 3] of every four taps, added at the end as ((a0 + a1) + a2) + a3,
 * exactly as resample.ts adds them; taps is a multiple of 4.
 */
const interpFunction = fn('interp', [i32, i32, i32, i32, i32, i32, i32, i32], (local) => {
  const X = 0, TABLE = 1, TAPS = 2, UP = 3, DOWN = 4, OUT = 5, COUNT = 6, PHASE = 7;
  const END = local(i32), ROW = local(i32), TJ = local(i32), TEND = local(i32), XJ = local(i32);
  const A01 = local(v128), A23 = local(v128);
  return [
    op.get(OUT), op.get(COUNT), op.i32(2), op.shl(), op.add(), op.set(END),
    op.get(TAPS), op.i32(3), op.shl(), op.set(ROW),
    op.get(OUT), op.get(END), op.ltU(), op.if(),
    ...loopWhile(OUT, END, [
      op.get(TABLE), op.get(PHASE), op.get(ROW), op.mul(), op.add(), op.tee(TJ), op.get(ROW), op.add(), op.set(TEND),
      op.get(X), op.set(XJ),
      op.zero(), op.set(A01), op.zero(), op.set(A23),
      ...loopWhile(TJ, TEND, [
        ...set(A01, [op.get(A01), ...ld(TJ, 0), ...ld(XJ, 0), op.f64x2Mul(), op.f64x2Add()]),
        ...set(A23, [op.get(A23), ...ld(TJ, 16), ...ld(XJ, 16), op.f64x2Mul(), op.f64x2Add()]),
        ...bump(TJ, 32), ...bump(XJ, 32),
      ]),
      op.get(OUT),
      op.get(A01), op.f64x2ExtractLane(0), op.get(A01), op.f64x2ExtractLane(1), op.f64Add(),
      op.get(A23), op.f64x2ExtractLane(0), op.f64Add(), op.get(A23), op.f64x2ExtractLane(1), op.f64Add(),
      op.f32DemoteF64(), op.f32Store(),
      ...bump(OUT, 4),
      // phase += down; while phase ≥ up: phase −= up, x advances one sample
      op.get(PHASE), op.get(DOWN), op.add(), op.set(PHASE),
      op.block(), op.loop(),
      op.get(PHASE), op.get(UP), op.ltU(), op.brIf(1),
      op.get(PHASE), op.get(UP), op.sub(), op.set(PHASE),
      ...bump(X, 8),
      op.br(0), op.end(), op.end(),
    ]),
    op.end(),
  ];
});

/**
 * mel(spec, bins, weights, ranges, nMels, outA, outB, pow, squared): the power of both spectra
 * (rounded as `power` rounds it, kept in float64 pairs at pow), then each mel band's weighted sum
 * over its nonzero bins [ranges[2m], ranges[2m + 1]), one running sum per frame added bin by bin
 * as mel.ts adds them; float32 results to two rows. Weights are float32 [nMels × bins].
 */
const melFunction = fn('mel', [i32, i32, i32, i32, i32, i32, i32, i32, i32], (local) => {
  const SPEC = 0, BINS = 1, WEIGHTS = 2, RANGES = 3, NMELS = 4, A = 5, B = 6, POW = 7, SQUARED = 8;
  const END = local(i32), PP = local(i32), WP = local(i32), WEND = local(i32), ROW = local(i32);
  const R = local(v128), Q = local(v128), P = local(v128), ACC = local(v128);
  const toF32AndBack = [op.f32x4DemoteF64x2Zero(), op.f64x2PromoteLowF32x4()];
  return [
    op.get(SPEC), op.get(BINS), op.i32(5), op.shl(), op.add(), op.set(END),
    op.get(POW), op.set(PP),
    ...loopWhile(SPEC, END, [
      ...set(R, [...ld(SPEC, 0), ...toF32AndBack]),
      ...set(Q, [...ld(SPEC, 16), ...toF32AndBack]),
      ...set(P, [...mul(R, R), ...mul(Q, Q), op.f64x2Add(), op.f64x2Sqrt(), ...toF32AndBack]),
      op.get(SQUARED), op.if(), ...set(P, [...mul(P, P), ...toF32AndBack]), op.end(),
      ...st(PP, 0, [op.get(P)]),
      ...bump(PP, 16), ...bump(SPEC, 32),
    ]),
    op.get(BINS), op.i32(2), op.shl(), op.set(ROW),
    op.get(A), op.get(NMELS), op.i32(2), op.shl(), op.add(), op.set(END),
    op.get(A), op.get(END), op.ltU(), op.if(),
    ...loopWhile(A, END, [
      op.zero(), op.set(ACC),
      // bins k0 … k1 of this band: weights at WEIGHTS + 4k, powers at POW + 16k
      op.get(WEIGHTS), op.get(RANGES), op.i32Load(0), op.i32(2), op.shl(), op.add(), op.set(WP),
      op.get(WEIGHTS), op.get(RANGES), op.i32Load(4), op.i32(2), op.shl(), op.add(), op.set(WEND),
      op.get(POW), op.get(RANGES), op.i32Load(0), op.i32(4), op.shl(), op.add(), op.set(PP),
      op.get(WP), op.get(WEND), op.ltU(), op.if(),
      ...loopWhile(WP, WEND, [
        ...set(ACC, [op.get(ACC), op.get(WP), op.load32Splat(), op.f64x2PromoteLowF32x4(), ...ld(PP), op.f64x2Mul(), op.f64x2Add()]),
        ...bump(WP, 4), ...bump(PP, 16),
      ]),
      op.end(),
      ...set(ACC, [op.get(ACC), op.f32x4DemoteF64x2Zero()]),
      op.get(A), op.get(ACC), op.store32Lane(0),
      op.get(B), op.get(ACC), op.store32Lane(1),
      ...bump(A, 4), ...bump(B, 4), ...bump(RANGES, 8),
      op.get(WEIGHTS), op.get(ROW), op.add(), op.set(WEIGHTS),
    ]),
    op.end(),
  ];
});

/**
 * dct(x, m, frames, n, nOut, out): out[k·frames + t] = Σ_j m[k·n + j]·x[t·n + j] for float32 rows
 * x (n even) and the float64 DCT matrix m: two running sums, even and odd j, as dct.ts's.
 */
const dctFunction = fn('dct', [i32, i32, i32, i32, i32, i32], (local) => {
  const X = 0, M = 1, FRAMES = 2, N = 3, NOUT = 4, OUT = 5;
  const T = local(i32), K = local(i32), MP = local(i32), XP = local(i32), XEND = local(i32), XROW = local(i32), OP = local(i32);
  const ACC = local(v128);
  return [
    op.i32(0), op.set(T), op.get(X), op.set(XROW),
    op.block(), op.loop(),
    op.get(T), op.get(FRAMES), op.geU(), op.brIf(1),
    op.i32(0), op.set(K), op.get(M), op.set(MP),
    op.get(OUT), op.get(T), op.i32(2), op.shl(), op.add(), op.set(OP),
    op.get(XROW), op.get(N), op.i32(2), op.shl(), op.add(), op.set(XEND),
    op.block(), op.loop(),
    op.get(K), op.get(NOUT), op.geU(), op.brIf(1),
    op.zero(), op.set(ACC), op.get(XROW), op.set(XP),
    ...loopWhile(XP, XEND, [
      ...set(ACC, [op.get(ACC), ...ld(MP), op.get(XP), op.load64Zero(), op.f64x2PromoteLowF32x4(), op.f64x2Mul(), op.f64x2Add()]),
      ...bump(MP, 16), ...bump(XP, 8),
    ]),
    op.get(OP), op.get(ACC), op.f64x2ExtractLane(0), op.get(ACC), op.f64x2ExtractLane(1), op.f64Add(), op.f32DemoteF64(), op.f32Store(),
    op.get(OP), op.get(FRAMES), op.i32(2), op.shl(), op.add(), op.set(OP),
    ...bump(K, 1),
    op.br(0), op.end(), op.end(),
    op.get(XEND), op.set(XROW),
    ...bump(T, 1),
    op.br(0), op.end(), op.end(),
  ];
});

let compiled: WebAssembly.Module | null | undefined;

/** The module, or null where the engine has no WebAssembly SIMD. */
export function audioModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const bytes = assemble([fftFunction, packFunction, untangleFunction, powerFunction, multiplyFunction, retangleFunction, unpackFunction, interpFunction, melFunction, dctFunction], 1);
    if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}

export interface AudioExports {
  fft(data: number, n: number, tw: number): void;
  pack(data: number, rev: number, win: number, a: number, b: number, h: number): void;
  untangle(data: number, rt: number, spec: number, h: number): void;
  power(spec: number, bins: number, outA: number, outB: number, squared: number): void;
  multiply(spec: number, filt: number, bins: number): void;
  retangle(spec: number, rt: number, data: number, rev: number, h: number): void;
  unpack(data: number, a: number, b: number, h: number, scale: number): void;
  mel(spec: number, bins: number, weights: number, ranges: number, nMels: number, outA: number, outB: number, pow: number, squared: number): void;
  dct(x: number, m: number, frames: number, n: number, nOut: number, out: number): void;
  interp(x: number, table: number, taps: number, up: number, down: number, out: number, count: number, phase: number): void;
  memory: WebAssembly.Memory;
}

/**
 * The instance for kernels that work on copies of their operands (interpolator, DCT): callers lay
 * operands out from address 0 of `heap(bytes)`, run the kernel, and copy the result out before any
 * other call. Null when SIMD is off or missing.
 */
export function scratchKernels(): { x: AudioExports; heap(bytes: number): ArrayBuffer } | null {
  if (!simdEnabled()) return null;
  if (scratch === undefined) {
    const module = audioModule();
    const x = module ? (new WebAssembly.Instance(module, {}).exports as unknown as AudioExports) : null;
    scratch = x && {
      x,
      heap(bytes: number): ArrayBuffer {
        const memory = x.memory;
        if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
        return memory.buffer;
      },
    };
  }
  return scratch;
}

let scratch: ReturnType<typeof scratchKernels> | undefined;
