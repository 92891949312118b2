/** Bad input gets a typed error that names the problem. */
import { describe, expect, it } from 'vitest';
import {
  GradError, SafetensorsError, ShapeError, StateDictError, ValueError, nn, ops, optim, saveSafetensors,
  loadSafetensors, tensor, zeros,
} from '../../src/index.js';
import { EmotionCNN } from '../../src/ser/model.js';

describe('shape errors name the shapes', () => {
  it('tensor() with the wrong number of values', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values cannot fill shape \[2, 2\]/);
  });
  it('broadcasting incompatible shapes', () => {
    expect(() => ops.add(zeros([2, 3]), zeros([4, 3]))).toThrow(/\[2, 3\] and \[4, 3\] cannot be broadcast/);
  });
  it('matmul inner dimensions', () => {
    expect(() => ops.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(ShapeError);
    expect(() => ops.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/inner dimensions differ/);
  });
  it('conv2d channel mismatch and too-small input', () => {
    const conv = new nn.Conv2d(3, 4, 3);
    expect(() => conv.forward(zeros([1, 2, 8, 8]))).toThrow(/has 2 channels but weight \[4, 3, 3, 3\] expects 3/);
    expect(() => conv.forward(zeros([1, 3, 2, 2]))).toThrow(/larger than the padded input/);
    expect(() => conv.forward(zeros([3, 8, 8]))).toThrow(/must be 4-D/);
  });
  it('batch norm channel mismatch', () => {
    expect(() => new nn.BatchNorm2d(4).forward(zeros([2, 3, 4, 4]))).toThrow(/has 3 channels, expected 4/);
  });
  it('linear feature mismatch', () => {
    expect(() => new nn.Linear(5, 2).forward(zeros([3, 4]))).toThrow(/must end in 5 features/);
  });
  it('EmotionCNN input shape', () => {
    expect(() => new EmotionCNN().forward(zeros([1, 1, 40, 100]))).toThrow(/\[N, 1, 40, 174\], got \[1, 1, 40, 100\]/);
  });
  it('reshape to an incompatible size', () => {
    expect(() => zeros([2, 3]).reshape([4, 2])).toThrow(/cannot reshape \[2, 3\]/);
  });
  it('crossEntropy with bad targets', () => {
    expect(() => ops.crossEntropy(zeros([2, 3]), [0, 3])).toThrow(ValueError);
    expect(() => ops.crossEntropy(zeros([2, 3]), [0])).toThrow(/1 targets for a batch of 2/);
    expect(() => ops.crossEntropy(zeros([2, 3]), [0, 1.5])).toThrow(/not a class index/);
  });
});

describe('autograd errors', () => {
  it('backward on a non-scalar without a gradient', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    expect(() => ops.mul(x, 2).backward()).toThrow(GradError);
    expect(() => ops.mul(x, 2).backward()).toThrow(/gradient must be given for a non-scalar output of shape \[2\]/);
  });
  it('backward on a tensor that does not require grad', () => {
    expect(() => tensor([1]).backward()).toThrow(/does not require grad/);
  });
  it('a non-scalar backward with an explicit gradient works', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    ops.mul(x, 3).backward(tensor([1, 10]));
    expect(Array.from(x.grad!.toArray())).toEqual([3, 30]);
  });
});

describe('state dicts', () => {
  const model = () => new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  it('missing, unexpected and misshaped keys are all named, and nothing is changed', () => {
    const m = model();
    const before = m.stateDict()['0.weight']!.toArray();
    const sd = { ...m.stateDict() };
    delete sd['2.bias'];
    sd['9.weight'] = zeros([1]);
    sd['0.weight'] = zeros([4, 5]);
    const err = (() => {
      try {
        m.loadStateDict(sd);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(StateDictError);
    expect(err!.message).toMatch(/0\.weight: expected \[4, 3\], got \[4, 5\]/);
    expect(err!.message).toMatch(/missing keys: 2\.bias/);
    expect(err!.message).toMatch(/unexpected keys: 9\.weight/);
    expect(m.stateDict()['0.weight']!.toArray()).toEqual(before);
  });
  it('non-strict loading ignores absent and extra keys but not shapes', () => {
    const m = model();
    m.loadStateDict({ '2.bias': tensor([5, 6]), extra: zeros([1]) }, { strict: false });
    expect(Array.from(m.stateDict()['2.bias']!.toArray())).toEqual([5, 6]);
    expect(() => m.loadStateDict({ '2.bias': zeros([3]) }, { strict: false })).toThrow(StateDictError);
  });
  it('a round trip through safetensors restores every value', () => {
    const a = new EmotionCNN();
    const b = new EmotionCNN();
    b.loadStateDict(loadSafetensors(saveSafetensors(a.stateDict())).tensors);
    for (const [k, t] of Object.entries(a.stateDict())) expect(b.stateDict()[k]!.toArray()).toEqual(t.toArray());
  });
});

describe('safetensors', () => {
  const bytes = saveSafetensors({ w: tensor([1, 2, 3, 4], [2, 2]), n: tensor([7], []) }, { isInteger: (k) => k === 'n', metadata: { a: 'b' } });
  it('writes an 8-byte aligned header, I64 for integer keys, and metadata', () => {
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.n.dtype).toBe('I64');
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    const loaded = loadSafetensors(bytes);
    expect(loaded.metadata).toEqual({ a: 'b' });
    expect(loaded.tensors.n!.item()).toBe(7);
  });
  it('rejects truncated, empty, garbage and lying files with SafetensorsError', () => {
    expect(() => loadSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/do not fit/);
    expect(() => loadSafetensors(new Uint8Array(3))).toThrow(SafetensorsError);
    expect(() => loadSafetensors(new TextEncoder().encode('definitely not a safetensors file'))).toThrow(SafetensorsError);
    const lying = bytes.slice();
    new DataView(lying.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => loadSafetensors(lying)).toThrow(/header length/);
    const badJson = bytes.slice();
    badJson[9] = 0x7b; // '{' inside the JSON breaks it
    expect(() => loadSafetensors(badJson)).toThrow(SafetensorsError);
  });
});

describe('argument checks', () => {
  it('layers and optimisers reject nonsense', () => {
    expect(() => new nn.Conv2d(0, 4, 3)).toThrow(/inChannels must be a positive integer/);
    expect(() => new nn.Dropout(1.5)).toThrow(/p must be in \[0, 1\]/);
    expect(() => new optim.Adam([], { lr: 1e-3 })).toThrow(/empty parameter list/);
    expect(() => new optim.Adam([tensor([1], [1], { requiresGrad: true })], { lr: -1 })).toThrow(/lr must be/);
    expect(() => new optim.SGD([tensor([1], [1], { requiresGrad: true })], { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
  });
});

describe('the base error', () => {
  it('is SerTsError; SerError, its former name, is the same class', async () => {
    const lib = await import('../../src/index.js');
    expect(lib.SerError).toBe(lib.SerTsError);
    const e = new lib.ValueError('x');
    expect(e).toBeInstanceOf(lib.SerTsError);
    expect(e).toBeInstanceOf(lib.SerError);
    expect(e.name).toBe('ValueError');
  });
});
