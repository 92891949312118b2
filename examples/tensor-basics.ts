/**
 * The deep-learning core in one page: a small CNN learns to tell horizontal from vertical stripes,
 * then its weights go through safetensors and back.
 *
 *   npx tsx examples/tensor-basics.ts
 */
import { Generator, loadSafetensors, manualSeed, nn, noGrad, optim, saveSafetensors, tensor } from '../src/index.js';
import { enableThreads } from '../src/node.js';

enableThreads(); // Node only: split big kernels across cores
manualSeed(0);
const rng = new Generator(1);

/** N noisy 1×12×12 images of horizontal (class 0) or vertical (class 1) stripes. */
function batch(n: number) {
  const x = new Float32Array(n * 144);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.int(2);
    const phase = rng.int(4);
    y.push(label);
    for (let r = 0; r < 12; r++) {
      for (let c = 0; c < 12; c++) {
        const stripe = ((label === 0 ? r : c) + phase) % 4 < 2 ? 1 : -1;
        x[i * 144 + r * 12 + c] = stripe + 0.8 * rng.normal();
      }
    }
  }
  return { x: tensor(x, [n, 1, 12, 12]), y };
}

const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(8 * 6 * 6, 2),
);
const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });

for (let step = 1; step <= 60; step++) {
  const { x, y } = batch(32);
  opt.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
  if (step % 20 === 0) console.log(`step ${step}: loss ${loss.item().toFixed(4)}`);
}

function accuracy(m: nn.Module): number {
  const { x, y } = batch(500);
  m.eval();
  const logits = noGrad(() => m.forward(x)).toArray();
  let right = 0;
  y.forEach((label, i) => (right += Number((logits[2 * i + 1]! > logits[2 * i]! ? 1 : 0) === label)));
  return right / y.length;
}
console.log(`held-out accuracy: ${(100 * accuracy(model)).toFixed(1)}%`);

// weights keep PyTorch's key names ("0.weight", "1.running_mean", …) and round-trip through safetensors
const bytes = saveSafetensors(model.stateDict());
const copy = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(8 * 6 * 6, 2),
);
copy.loadStateDict(loadSafetensors(bytes).tensors);
console.log(`reloaded from ${bytes.length} bytes of safetensors: ${Object.keys(copy.stateDict()).join(', ')}`);
