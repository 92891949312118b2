/**
 * Kernel launches, uploads and readbacks of one EmotionCNN eval pass (batch 2) and one Adam train
 * step on the gpu.js backend, from gpu.stats(): counts, the same in gpu.js's 'cpu' (the default
 * here, no GPU needed) and 'webasm' modes, which run the scalar kernels. On GL the packed kernels
 * add their packing passes; bench/webgl.ts reports those counts.  `npx tsx experiments/gpu-launches.ts [mode]`
 */
import { manualSeed, nn, noGrad, optim, randn, tidy } from '../src/index.js';
import { useGpu } from '../src/gpu.js';
import { EmotionCNN } from '../src/ser/model.js';
const gpu = useGpu({ mode: (process.argv[2] ?? 'cpu') as 'cpu' });
manualSeed(0);
for (const deltas of [0, 2]) {
  const m = new EmotionCNN({ deltas });
  const opt = new optim.Adam(m.parameters(), { lr: 1e-3 });
  const x = randn([2, 1, 40, 174]);
  m.eval();
  for (let i = 0; i < 2; i++) { gpu.resetStats(); tidy(() => noGrad(() => m.forward(x)).toArray()); }
  const ev = gpu.stats();
  m.train();
  for (let i = 0; i < 2; i++) { gpu.resetStats(); tidy(() => { opt.zeroGrad(); const l = nn.functional.crossEntropy(m.forward(x), [0, 1]); l.backward(); opt.step(); return l.item(); }); }
  const tr = gpu.stats();
  console.log(`deltas ${deltas}: eval launches ${ev.launches} uploads ${ev.uploads} readbacks ${ev.readbacks}; train step launches ${tr.launches} uploads ${tr.uploads} readbacks ${tr.readbacks}`);
}
