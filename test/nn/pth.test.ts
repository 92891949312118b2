/**
 * PyTorch .pth state dicts in (src/nn/pth.ts): the seed EmotionCNN saved by torch.save in three key
 * layouts gives PyTorch's logits; hostile files are refused, naming what they reach for, and nothing
 * in them runs. Fixtures: scripts/gen_pth_fixtures.py.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Generator, PthError, StateDictError, loadPth, loadSafetensors, noGrad, ser, tensor } from '../../src/index.js';
import { toModelKeys } from '../../src/ser/weights-file.js';
import { expectClose, fixturePath } from '../helpers/fixtures.js';
import { lcg } from '../helpers/lcg.js';

const pth = (name: string) => readFileSync(fixturePath(`pth/${name}.pth`));
const expected = loadSafetensors(readFileSync(fixturePath('pth/expected.safetensors')));

describe('PyTorch .pth import', () => {
  const x = tensor(lcg(2 * 40 * 174, 5, 20), [2, 1, 40, 174]);
  it('the input is the fixture\'s, and the fixture says which PyTorch made it', () => {
    expectClose(x.toArray().subarray(0, 16), expected.tensors.x_check!, 0, 'input');
    expect(expected.metadata.torch).toBe('1.13.0a0');
  });
  it.each(['emotion_cnn', 'emotion_cnn_sequential', 'emotion_cnn_dataparallel'])('%s.pth: eval logits equal PyTorch\'s within 1e-5', (name) => {
    const r = ser.EmotionRecognizer.fromBytes(pth(name));
    expect(r.normalizer).toBeNull(); // a .pth has no metadata: the original recipe
    expectClose(noGrad(() => r.model.forward(x)), expected.tensors.logits!, 1e-5, name);
    // running statistics and the integer buffer came through too
    expect(r.model.bn3.numBatchesTracked.item()).toBe(9);
  });
  it('attribute names load as they are; Sequential indices map by order and shape; module. is dropped', () => {
    const plain = loadPth(pth('emotion_cnn'));
    expect(Object.keys(plain)).toEqual(Object.keys(new ser.EmotionCNN().stateDict()));
    const seq = loadPth(pth('emotion_cnn_sequential'));
    expect(Object.keys(seq).slice(0, 3)).toEqual(['0.weight', '0.bias', '1.weight']);
    expect(Object.keys(loadPth(pth('emotion_cnn_dataparallel')))[0]).toBe('module.conv1.weight');
    expect(Object.keys(toModelKeys(seq, new ser.EmotionCNN()))).toEqual(Object.keys(plain));
  });
  it('a state dict that does not fit is a StateDictError that shows where it parts from EmotionCNN', () => {
    const seq = loadPth(pth('emotion_cnn_sequential'));
    const { ['1.running_var']: _, ...missing } = seq;
    expect(() => toModelKeys(missing, new ser.EmotionCNN())).toThrow(StateDictError);
    expect(() => toModelKeys(missing, new ser.EmotionCNN())).toThrow(/the file's 24 tensors do not map onto EmotionCNN's 25 by name or by order: tensor 6 is 1\.num_batches_tracked \[\], EmotionCNN expects bn1\.running_var \[16\]/);
  });
});

describe('hostile .pth files are refused, and nothing in them runs', () => {
  it.each([
    ['os_system', /refers to 'posix\.system'/],
    ['builtins_eval', /refers to '__builtin__\.eval'/],
    ['popen', /refers to '[a-z_]+\.Popen'/],
    ['huge_storage', /storage '0' claims 1099511627776 elements but holds 2/],
    ['legacy', /legacy torch\.save format/],
  ])('%s', (name, message) => {
    expect(() => ser.EmotionRecognizer.fromBytes(pth(`hostile_${name}`))).toThrow(PthError);
    expect(() => ser.EmotionRecognizer.fromBytes(pth(`hostile_${name}`))).toThrow(message);
  });
  it('a truncated archive is a PthError, wherever it is cut', () => {
    const good = pth('emotion_cnn');
    for (const cut of [10, 100, 1000, 50_000, good.length / 2, good.length - 100, good.length - 1]) {
      expect(() => loadPth(good.subarray(0, Math.floor(cut))), `cut at ${cut}`).toThrow(PthError);
    }
  });
  it('fuzz: 400 byte flips in a small file\'s archive and pickle load or fail with a PthError, each within 200 ms', () => {
    const good = pth('hostile_huge_storage'); // small: its pickle and zip directory are most of it
    const small = readFileSync(fixturePath('pth/hostile_legacy.pth')); // pre-1.6: must always be refused
    const rng = new Generator(30);
    for (let trial = 0; trial < 400; trial++) {
      const bytes = (trial % 10 === 0 ? small : good).slice();
      for (let f = 0; f < 1 + rng.int(3); f++) bytes[rng.int(bytes.length)] = rng.int(256);
      const t0 = performance.now();
      try {
        loadPth(bytes);
      } catch (e) {
        if (!(e instanceof PthError)) throw new Error(`trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      expect(performance.now() - t0).toBeLessThan(200);
    }
  });
});
