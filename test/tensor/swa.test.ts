/** Weight averaging and batch-norm recomputation against torch.optim.swa_utils (fixture: scripts/gen_torch_fixtures.py). */
import { describe, expect, it } from 'vitest';
import { StateDictError, ValueError, nn, tensor } from '../../src/index.js';
import { expectClose, torchFixture } from '../helpers/fixtures.js';

const smallNet = () => new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(3 * 4 * 5, 4));

describe('WeightAverage and updateBatchNorm (as AveragedModel and update_bn)', () => {
  it('averages three snapshots and recomputes the statistics as PyTorch does', () => {
    const { t } = torchFixture('swa');
    const net = smallNet();
    const avg = new nn.WeightAverage(net);
    const keys = net.namedParameters().map(([k]) => k);
    for (let i = 0; i < 3; i++) {
      net.loadStateDict(Object.fromEntries(keys.map((k) => [k, t[`snap${i}.${k}`]!])), { strict: false });
      avg.update();
    }
    expect(avg.count).toBe(3);
    // the layer's own momentum (the default 0.1) is put back after the recomputation
    const bn = net.namedModules().find(([, m]) => m instanceof nn.BatchNorm2d)![1] as nn.BatchNorm2d;
    net.eval();
    avg.apply();
    for (const k of keys) expectClose(net.stateDict()[k]!, t[`avg.${k}`]!, 1e-6, k);
    nn.updateBatchNorm(net, [t.batch0!, t.batch1!, t.batch2!]);
    expectClose(bn.runningMean, t['avg.1.running_mean']!, 1e-5, 'running_mean');
    expectClose(bn.runningVar, t['avg.1.running_var']!, 1e-5, 'running_var');
    expect(bn.momentum).toBe(0.1);
    expect(bn.numBatchesTracked.item()).toBe(3);
    expect(net.training).toBe(false);
    expectClose(net.forward(t.x!), t.y!, 1e-5, 'eval output');
  });

  it('momentum null weighs every batch alike', () => {
    const bn = new nn.BatchNorm2d(1, { momentum: null });
    bn.forward(tensor([0, 2, 4, 6], [2, 1, 2, 1])); // mean 3, unbiased var 20/3
    bn.forward(tensor([1, 1, 1, 1], [2, 1, 2, 1])); // mean 1, var 0
    expectClose(bn.runningMean, tensor([2], [1]), 1e-6, 'mean of the batch means');
    expectClose(bn.runningVar, tensor([10 / 3], [1]), 1e-6, 'mean of the batch variances');
  });

  it('round-trips through stateDict and rejects what does not fit', () => {
    const net = smallNet();
    const avg = new nn.WeightAverage(net);
    expect(() => avg.apply()).toThrow(ValueError);
    expect(avg.stateDict()).toEqual({});
    avg.update();
    const copy = new nn.WeightAverage(net);
    copy.loadStateDict(avg.stateDict(), avg.count);
    expect(copy.count).toBe(1);
    const [k0] = Object.keys(avg.stateDict());
    expect(Array.from(copy.stateDict()[k0!]!.toArray())).toEqual(Array.from(avg.stateDict()[k0!]!.toArray()));
    const { [k0!]: _, ...missing } = avg.stateDict();
    expect(() => copy.loadStateDict(missing, 1)).toThrow(StateDictError);
    expect(() => copy.loadStateDict({ ...avg.stateDict(), [k0!]: tensor([1, 2], [2]) }, 1)).toThrow(/is \[2\]/);
    expect(() => copy.loadStateDict(avg.stateDict(), -1)).toThrow(ValueError);
    expect(() => nn.updateBatchNorm(net, [])).toThrow(/no batches/);
  });
});
