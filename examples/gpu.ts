/**
 * The same model on the gpu.js backend: select it, train a few steps, count what crossed between
 * host and backend, and check the answer against the CPU kernels.
 *
 *   npx tsx examples/gpu.ts
 *
 * With a GPU (headless-gl in Node, WebGL in a browser) gpu.js runs the kernels there; without one,
 * as on most servers, it compiles them to WebAssembly, which is slower than our CPU kernels (the
 * README's benchmarks say by how much), so `setBackend('auto')` picks the CPU there.
 */
import { manualSeed, nn, noGrad, optim, randn, setBackend } from '../src/index.js';
import { gpuModes, useGpu } from '../src/gpu.js';
import { EmotionCNN } from '../src/ser/model.js';

console.log(`gpu.js modes available here: ${gpuModes().join(', ')}`);
const gpu = useGpu(); // registers and selects backend 'gpu' in the best mode
console.log(`backend 'gpu' runs in gpu.js mode '${gpu.mode}'`);

manualSeed(0);
const model = new EmotionCNN(); // built after useGpu: its tensors live on the gpu backend
const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
const x = randn([4, 1, 40, 174]);
const y = [0, 3, 5, 7];
for (let step = 1; step <= 3; step++) {
  const t0 = performance.now();
  opt.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
  console.log(`step ${step}: loss ${loss.item().toFixed(4)} in ${(performance.now() - t0).toFixed(0)} ms`);
}
console.log('transfers and kernels so far:', gpu.stats());

// the same weights on the CPU backend give the same logits
model.eval();
const onGpu = noGrad(() => model.forward(x)).toArray();
model.to('cpu');
setBackend('cpu');
const onCpu = noGrad(() => model.forward(x.to('cpu'))).toArray();
const worst = onGpu.reduce((m, v, i) => Math.max(m, Math.abs(v - onCpu[i]!)), 0);
console.log(`largest logit difference, gpu vs cpu: ${worst.toExponential(2)}`);
