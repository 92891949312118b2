/**
 * Recording conditions (src/audio/degrade.ts): each filter's response measured on tones, the noise
 * SNR and spectrum, the room impulse response's decay, FFT convolution against the direct sum, and
 * the 16-bit, µ-law and clipping arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { audio, ser } from '../../src/index.js';
import { Generator } from '../../src/tensor/random.js';

const SR = 22050;
const tone = (hz: number, seconds = 1, amp = 0.5) => Float32Array.from({ length: Math.round(SR * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR));
const power = (y: Float32Array, from = 0) => {
  let s = 0;
  for (let i = from; i < y.length; i++) s += y[i]! * y[i]!;
  return s / (y.length - from);
};
/** Gain in dB of a filter on a tone, after its first 0.2 s (the transient). */
const gainDb = (f: (y: Float32Array) => Float32Array, hz: number) => {
  const t = tone(hz);
  return 10 * Math.log10(power(f(t), 4410) / power(t, 4410));
};
/** Power between lo and hi Hz, from a plain DFT of the signal's first 4096 samples. */
function bandPower(y: Float32Array, lo: number, hi: number): number {
  const n = 4096;
  let s = 0;
  for (let k = Math.ceil((lo * n) / SR); k <= Math.floor((hi * n) / SR); k++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      re += y[i]! * Math.cos((2 * Math.PI * k * i) / n);
      im -= y[i]! * Math.sin((2 * Math.PI * k * i) / n);
    }
    s += re * re + im * im;
  }
  return s;
}

describe('filters', () => {
  it('Butterworth low-pass and high-pass: −3 dB at the cutoff, flat in the pass band, steep beyond', () => {
    const lp = (y: Float32Array) => audio.lowPass(y, SR, 4000);
    expect(gainDb(lp, 1000)).toBeCloseTo(0, 1);
    expect(gainDb(lp, 4000)).toBeCloseTo(-3.01, 1);
    expect(gainDb(lp, 8000)).toBeLessThan(-45); // 8th order: ~48 dB an octave up
    const hp = (y: Float32Array) => audio.highPass(y, SR, 300);
    expect(gainDb(hp, 300)).toBeCloseTo(-3.01, 1);
    expect(gainDb(hp, 2000)).toBeCloseTo(0, 1);
    expect(gainDb(hp, 75)).toBeLessThan(-45);
  });
  it('a band limit removes what a lower sample rate cannot hold and keeps the rest', () => {
    const band = (y: Float32Array) => audio.bandLimit(y, SR, 8000);
    expect(gainDb(band, 1000)).toBeCloseTo(0, 1);
    expect(gainDb(band, 6000)).toBeLessThan(-40);
    expect(audio.bandLimit(tone(440), SR, 16000).length).toBe(SR);
  });
  it('the telephone line passes 300–3400 Hz only', () => {
    const phone = (y: Float32Array) => audio.telephone(y, SR);
    expect(Math.abs(gainDb(phone, 1000))).toBeLessThan(0.5);
    expect(gainDb(phone, 100)).toBeLessThan(-30);
    expect(gainDb(phone, 5000)).toBeLessThan(-40);
  });
  it('tilt: ±db/2 at the extremes, nothing at 1 kHz', () => {
    const up = (y: Float32Array) => audio.tilt(y, SR, 6);
    expect(gainDb(up, 50)).toBeCloseTo(-3, 0);
    expect(gainDb(up, 1000)).toBeCloseTo(0, 1);
    expect(gainDb(up, 9000)).toBeCloseTo(3, 0);
    expect(gainDb((y) => audio.tilt(y, SR, -6), 9000)).toBeCloseTo(-3, 0);
  });
  it('bad cutoffs and orders are refused with the reason', () => {
    expect(() => audio.lowPass(tone(100), SR, 12000)).toThrow(/cutoff must be between 0 and 11025 Hz/);
    expect(() => audio.highPass(tone(100), SR, 300, 3)).toThrow(/order must be an even integer/);
    expect(() => audio.bandLimit(tone(100), SR, 44100)).toThrow(/rate must be below the clip's 22050 Hz/);
  });
});

describe('noise', () => {
  const speechLike = Float32Array.from({ length: SR * 2 }, (_, i) => (i < SR / 2 ? 0 : 0.3 * Math.sin(i / 7) * Math.sin(i / 3000)));
  it('noise is added at the SNR asked, against the active speech level (the silence does not lower it)', () => {
    for (const snr of [20, 5]) {
      const y = audio.addNoise(speechLike, audio.whiteNoise(speechLike.length, new Generator(1)), snr);
      const noise = y.map((v, i) => v - speechLike[i]!);
      expect(10 * Math.log10(audio.activePower(speechLike) / power(noise))).toBeCloseTo(snr, 6);
    }
    expect(audio.activePower(speechLike)).toBeGreaterThan(1.2 * power(speechLike));
  });
  it('white noise is flat and pink noise falls 3 dB an octave', () => {
    const rng = new Generator(2);
    const white = audio.whiteNoise(4096, rng);
    const pink = audio.pinkNoise(4096, SR, rng);
    // an octave 4× wider than another holds 4× the power in white noise, the same in pink
    const ratio = (y: Float32Array) => 10 * Math.log10(bandPower(y, 2000, 4000) / bandPower(y, 500, 1000));
    expect(ratio(white)).toBeGreaterThan(4.5);
    expect(Math.abs(ratio(pink))).toBeLessThan(1.5);
  });
  it('babble is the sum of other voices at one level; without voices it is refused', () => {
    const a = tone(200, 0.5, 0.1);
    const b = tone(300, 0.3, 1);
    const mix = audio.babble([a, b], 22050, new Generator(3));
    expect(mix.length).toBe(22050);
    expect(power(mix)).toBeCloseTo(2, 0); // two voices, each at unit active power
    expect(() => audio.babble([], 10, new Generator(0))).toThrow(/needs at least one voice/);
    expect(() => ser.applyCondition(a, { kind: 'noise', noise: 'babble', snrDb: 5 }, { sampleRate: SR, rng: new Generator(0) })).toThrow(/babble noise needs clips of other speakers/);
  });
});

describe('rooms', () => {
  it("the impulse response's tail decays by 60 dB in RT60 seconds", () => {
    for (const rt60 of [0.3, 0.8]) {
      const h = audio.roomImpulse(SR, rt60, new Generator(4));
      expect(h[0]).toBe(1);
      const seg = (t0: number) => power(h.subarray(Math.round(t0 * SR), Math.round((t0 + 0.05) * SR)));
      const slope = (10 * Math.log10(seg(0.05) / seg(0.05 + rt60 / 2))) / (rt60 / 2); // dB per second
      expect(slope * rt60).toBeGreaterThan(50);
      expect(slope * rt60).toBeLessThan(70);
    }
    expect(() => audio.roomImpulse(SR, 0, new Generator(0))).toThrow(/rt60 must be in \(0, 3\]/);
  });
  it('FFT convolution equals the direct sum', () => {
    const rng = new Generator(5);
    const y = audio.whiteNoise(300, rng);
    const h = audio.whiteNoise(37, rng);
    const got = audio.convolve(y, h);
    const want = y.map((_, n) => {
      let s = 0;
      for (let k = 0; k < h.length && k <= n; k++) s += h[k]! * y[n - k]!;
      return s;
    });
    for (let i = 0; i < y.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });
  it('reverberation keeps the length and the level', () => {
    const y = tone(500, 1);
    const wet = audio.reverb(y, SR, 0.5, new Generator(6));
    expect(wet.length).toBe(y.length);
    expect(power(wet)).toBeCloseTo(power(y), 6);
  });
});

describe('level and quantisation', () => {
  it('gain16 scales, clips at full scale and rounds to 16 bits', () => {
    const y = Float32Array.from([0.5, -0.5, 0.001, 0.2]);
    const up = audio.gain16(y, 20 * Math.log10(4));
    expect(Array.from(up.slice(0, 2))).toEqual([1, -1]);
    expect(up[3]).toBeCloseTo(0.8, 4);
    expect(Math.round(audio.gain16(y, 0)[2]! * 32767)).toBe(33);
    const q = audio.gain16(y, -30)[3]! * 32767;
    expect(Math.abs(q - Math.round(q))).toBeLessThan(1e-3);
  });
  it('µ-law: 8 bits, error relative to the level (fine near zero, coarse near full scale)', () => {
    const y = Float32Array.from([0.001, 0.01, 0.1, 0.9, 2]);
    const q = audio.muLaw8(y);
    expect(Math.abs(q[0]! - 0.001)).toBeLessThan(2e-4);
    expect(Math.abs(q[3]! - 0.9) / 0.9).toBeLessThan(0.04);
    expect(q[4]).toBeCloseTo(1, 6);
    expect(new Set(Array.from(audio.muLaw8(Float32Array.from({ length: 2001 }, (_, i) => i / 1000 - 1)))).size).toBeLessThanOrEqual(255);
  });
});

describe('conditions', () => {
  const clip = Float32Array.from({ length: SR }, (_, i) => 0.2 * Math.sin(i / 5) * Math.sin(i / 2000));
  const voices = () => [tone(180, 0.7, 0.2), tone(260, 0.9, 0.3)];
  it('the benchmark has clean and 21 named conditions; each keeps the length, stays finite, and repeats with its seed', () => {
    const names = ser.BENCHMARK_CONDITIONS.map(ser.conditionName);
    expect(names.length).toBe(22);
    expect(new Set(names).size).toBe(22);
    expect(names[0]).toBe('clean');
    expect(names).toContain('babble-5dB');
    for (const c of ser.BENCHMARK_CONDITIONS) {
      const a = ser.applyCondition(clip, c, { sampleRate: SR, rng: new Generator(7), voices });
      const b = ser.applyCondition(clip, c, { sampleRate: SR, rng: new Generator(7), voices });
      expect(a.length).toBe(clip.length);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(a).toEqual(b);
      if (c.kind !== 'clean') expect(a).not.toEqual(clip);
    }
  });
  it('the segmentation conditions move the speech: a second of silence before it, only the speech, its first 1.5 s', () => {
    // half a second of silence, 1.2 s of syllable-like tone bursts, 0.8 s of silence
    const burst = Float32Array.from({ length: Math.round(1.2 * SR) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 160 * i) / SR) * Math.abs(Math.sin((Math.PI * 4 * i) / SR)));
    const y = new Float32Array(Math.round(2.5 * SR));
    y.set(burst, SR / 2);
    const ctx = { sampleRate: SR, rng: new Generator(1) };
    expect(ser.SEGMENTATION_CONDITIONS.map(ser.conditionName)).toEqual(['clean', 'lead-1s', 'speech-only', 'excerpt-1.5s']);
    const lead = ser.applyCondition(y, { kind: 'lead', seconds: 1 }, ctx);
    expect(lead.length).toBe(y.length + SR);
    expect(lead.subarray(0, SR).every((v) => v === 0)).toBe(true);
    expect(lead.subarray(SR)).toEqual(y);
    const only = ser.applyCondition(y, { kind: 'speechOnly' }, ctx);
    // the bursts and about 0.1 s either side (the detector's frames are 512 samples)
    expect(Math.abs(only.length / SR - 1.4)).toBeLessThan(0.1);
    expect(Math.max(...only.subarray(0, Math.round(0.05 * SR)).map(Math.abs))).toBe(0);
    const excerpt = ser.applyCondition(y, { kind: 'excerpt', seconds: 1 }, ctx);
    expect(excerpt.length).toBe(SR);
    expect(excerpt).toEqual(only.subarray(0, SR));
    // no speech: kept whole
    const hum = Float32Array.from({ length: SR }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 120 * i) / SR));
    expect(ser.applyCondition(hum, { kind: 'speechOnly' }, ctx)).toEqual(hum);
  });
  it('training draws one family, half the time two, with levels in range', () => {
    const rng = new Generator(8);
    const draws = Array.from({ length: 400 }, () => ser.drawConditions(rng));
    const pairs = draws.filter((d) => d.length === 2).length;
    expect(pairs).toBeGreaterThan(160);
    expect(pairs).toBeLessThan(240);
    expect(draws.every((d) => d.length === 1 || d[0]!.kind !== d[1]!.kind)).toBe(true);
    const kinds = new Set(draws.flat().map((c) => c.kind));
    expect(kinds.size).toBe(8);
    for (const c of draws.flat()) {
      if (c.kind === 'noise') expect(c.snrDb >= 0 && c.snrDb <= 25).toBe(true);
      if (c.kind === 'reverb') expect(c.rt60 >= 0.2 && c.rt60 <= 1).toBe(true);
    }
  });
});
