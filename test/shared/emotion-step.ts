/**
 * The whole EmotionCNN training step against PyTorch's golden values (gen_torch_fixtures.py's
 * emotion_cnn): logits, loss, every gradient, running statistics and three Adam steps, as a list of
 * measured errors and their limits. Vitest checks it on each backend in Node
 * (test/tensor/emotion-cnn-parity.test.ts) and the browser test on WebGL (test/browser/gl.test.ts).
 */
import { type Tensor, nn, optim, setBackend, tensor } from '../../src/index.js';
import { EmotionCNN } from '../../src/ser/model.js';
import { lcg } from '../helpers/lcg.js';
import { relError } from './seam-cases.js';

export interface Check {
  what: string;
  value: number;
  limit: number;
}

const isConvBias = (name: string) => /^conv\d\.bias$/.test(name);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const norm2 = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

/** The deterministic parameters of gen_torch_fixtures.py's lcg_init. */
export function lcgInit(model: EmotionCNN): void {
  const params = model.namedParameters();
  const weights = new Map(params);
  const sd: Record<string, Tensor> = { ...model.stateDict() };
  params.forEach(([name, p], i) => {
    let values: Float32Array;
    if (name.startsWith('bn')) {
      const base = name.endsWith('weight') ? 1 : 0;
      values = lcg(p.size, 1000 + i, 0.1).map((v) => base + v);
    } else {
      const w = weights.get(name.replace('bias', 'weight'))!;
      const fanIn = w.shape.slice(1).reduce((a, b) => a * b, 1);
      values = lcg(p.size, 1000 + i, 1 / Math.sqrt(fanIn));
    }
    sd[name] = tensor(values, p.shape);
  });
  model.loadStateDict(sd);
}

/** Runs the fixture's training step on `backend` (tol: the relative error allowed) and measures it. */
export function emotionStepChecks(t: Record<string, Tensor>, backend: string, tol: number): Check[] {
  const checks: Check[] = [];
  const rel = (what: string, got: ArrayLike<number>, want: ArrayLike<number>) => checks.push({ what, value: relError(got, want), limit: tol });
  setBackend(backend);
  const batch = 4;
  const target = Array.from(t.target!.toArray());
  const x = tensor(lcg(batch * 40 * 174, 7, 30), [batch, 1, 40, 174]);
  const model = new EmotionCNN();
  lcgInit(model);
  model.train();
  model.dropout.eval(); // as in the fixture: dropout masks are random
  const logits = model.forward(x);
  rel('logits', logits.toArray(), t.logits!.toArray());
  const loss = nn.functional.crossEntropy(logits, target);
  rel('loss', [loss.item()], t.loss!.toArray());
  loss.backward();
  for (const [name, p] of model.namedParameters()) if (!isConvBias(name)) rel(`grad ${name}`, p.grad!.toArray(), t[`grad.${name}`]!.toArray());
  // A conv bias feeding a training-mode BatchNorm has an exact gradient of zero (the batch mean
  // removes it): both sides hold only rounding noise, which must be tiny next to the weights'.
  [model.conv1, model.conv2, model.conv3].forEach((conv, j) => {
    const scale = maxAbs(t[`grad.conv${j + 1}.weight`]!.toArray());
    checks.push({ what: `grad conv${j + 1}.bias (noise)`, value: maxAbs(conv.bias!.grad!.toArray()), limit: tol * scale });
    checks.push({ what: `PyTorch grad conv${j + 1}.bias (noise)`, value: maxAbs(t[`grad.conv${j + 1}.bias`]!.toArray()), limit: tol * scale });
  });
  for (const [name, b] of model.namedBuffers()) if (name.includes('running')) rel(name, b.toArray(), t[`after1.${name}`]!.toArray());

  const initial = new Map(model.namedParameters().map(([k, p]) => [k, p.toArray()]));
  const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
  opt.step();
  for (let s = 0; s < 2; s++) {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x), target).backward();
    opt.step();
  }
  // Adam divides by √v, so a gradient element that is itself rounding noise (|g| ~ 1e-7 of the
  // largest) becomes a visible fraction of a step. Measured: 18 of 860,160 fc1 weights differ by
  // more than 1e-7. So the update as a whole must match tightly, and every element within 0.1·lr.
  const lr = 5e-4;
  for (const [name, p] of model.namedParameters()) {
    const got = p.toArray();
    const want = t[`adam3.${name}`]!.toArray();
    const start = initial.get(name)!;
    const diff = got.map((v, i) => Math.abs(v - want[i]!));
    if (isConvBias(name)) {
      // zero-gradient parameters: each step moves either side by up to lr of pure noise, in
      // directions that need not agree, so three steps differ by at most 2 · 3 · lr
      checks.push({ what: `adam3 ${name} (noise)`, value: maxAbs(diff), limit: 6 * lr * 1.001 });
      continue;
    }
    const update = want.map((v, i) => v - start[i]!);
    checks.push({ what: `adam3 ${name}: update relative L2 error`, value: norm2(diff) / norm2(update), limit: 10 * tol });
    checks.push({ what: `adam3 ${name}: worst element`, value: maxAbs(diff), limit: 0.1 * lr });
  }
  setBackend('cpu');
  return checks;
}
