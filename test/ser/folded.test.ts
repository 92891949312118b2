/**
 * EmotionCNN's eval mode folds each batch norm into its convolution once and reuses the folded
 * weights: every way the weights or statistics change must refold, and gradients wanted through
 * the weights must still reach them.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, noGrad, optim, randn, tidy } from '../../src/index.js';
import { EmotionCNN } from '../../src/ser/model.js';
import { expectClose } from '../helpers/fixtures.js';

/** Logits of the eval-mode model, and of a fresh model given the same state (nothing cached). */
function logitsAndFresh(m: EmotionCNN, x: ReturnType<typeof randn>) {
  m.eval();
  const got = noGrad(() => m.forward(x)).toArray();
  const fresh = new EmotionCNN();
  fresh.loadStateDict(m.stateDict());
  fresh.eval();
  return { got, want: noGrad(() => fresh.forward(x)).toArray() };
}

describe('EmotionCNN eval: folded batch norm', () => {
  manualSeed(0);
  const x = randn([2, 1, 40, 174]);

  it('refolds after an optimiser step, a training-mode pass (running statistics) and a loaded state dict', () => {
    manualSeed(1);
    const m = new EmotionCNN();
    const first = logitsAndFresh(m, x);
    expectClose(first.got, first.want, 0);
    // a training step: the optimiser rewrites the weights in place, the pass updates the statistics
    m.train();
    const opt = new optim.Adam(m.parameters(), { lr: 1e-2 });
    nn.functional.crossEntropy(m.forward(x), [0, 3]).backward();
    opt.step();
    const stepped = logitsAndFresh(m, x);
    expect(stepped.got).not.toEqual(first.got);
    expectClose(stepped.got, stepped.want, 0);
    // another model's weights
    manualSeed(2);
    m.loadStateDict(new EmotionCNN().stateDict());
    const loaded = logitsAndFresh(m, x);
    expect(loaded.got).not.toEqual(stepped.got);
    expectClose(loaded.got, loaded.want, 0);
  });

  it('survives the tidy scope it was folded in, and repeated calls give the same answer', () => {
    manualSeed(3);
    const m = new EmotionCNN();
    m.eval();
    const a = tidy(() => noGrad(() => m.forward(x)).toArray());
    const b = tidy(() => noGrad(() => m.forward(x)).toArray());
    expectClose(a, b, 0);
  });

  it('with gradients on, eval-mode weights still get them (the fold is on the graph)', () => {
    manualSeed(4);
    const m = new EmotionCNN();
    m.eval();
    noGrad(() => m.forward(x)); // a cached fold exists
    nn.functional.crossEntropy(m.forward(x), [1, 2]).backward();
    for (const p of [m.conv1.weight, m.bn2.weight, m.bn3.bias]) {
      expect(p.grad).not.toBeNull();
      expect(p.grad!.toArray().some((v) => v !== 0)).toBe(true);
    }
  });
});
