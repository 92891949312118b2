/**
 * How far the robustness benchmark's conditions move the voice-activity detector's speech cut: for
 * each test clip of the given folds, the span (first to last speech frame) under each condition
 * against the span of the same clip clean, as the mean of |Δstart| + |Δend| in frames and the share
 * of clips off by more than the trim's margin (13 frames, 0.3 s). No model: it judges the detector
 * alone, in minutes, before any retraining. Each argument after the data is a variant, a name and
 * the detector's options as JSON (`{}` for the defaults); `vs-default` is each variant's clean cut
 * against the default detector's, which says how much retraining it would need.
 *
 *   npx tsx scripts/vad-stability.ts DIR --folds 1,4 default '{}' nofloor '{"quietFloorDb":0}'
 */
import { parseArgs } from 'node:util';
import { speechSpan, voiceActivity, type VadOptions } from '../src/audio/vad.js';
import { WaveformPool, otherVoices, scanRavdess } from '../src/node/dataset.js';
import { BENCHMARK_CONDITIONS, applyCondition, conditionName } from '../src/ser/conditions.js';
import { SAMPLE_RATE, TRIM_MARGIN_FRAMES } from '../src/ser/features.js';
import { foldSplit } from '../src/ser/splits.js';
import { Generator } from '../src/tensor/random.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { folds: { type: 'string', default: '1,4' } } });
const [dir, ...pairs] = positionals;
if (!dir || pairs.length % 2 !== 0) {
  console.error('usage: npx tsx scripts/vad-stability.ts DIR [--folds 1,4] [NAME OPTIONS_JSON]...');
  process.exit(2);
}
const variants: [string, Omit<VadOptions, 'sampleRate'>][] = pairs.length ? [] : [['default', {}]];
for (let i = 0; i < pairs.length; i += 2) variants.push([pairs[i]!, JSON.parse(pairs[i + 1]!)]);

type Span = { start: number; end: number } | null;
const cut = (y: Float32Array, o: Omit<VadOptions, 'sampleRate'>): Span => speechSpan(voiceActivity(y, { sampleRate: SAMPLE_RATE, ...o }));
// a clip found speechless on one side and not the other is off by the whole clip; 200 frames stands for it
const distance = (a: Span, b: Span) => (!a || !b ? (a === b ? 0 : 200) : Math.abs(a.start - b.start) + Math.abs(a.end - b.end));

const items = scanRavdess(dir);
const pool = new WaveformPool(64);
const rows = new Map<string, Map<string, number[]>>(variants.map(([n]) => [n, new Map()]));
const push = (variant: string, column: string, d: number) => {
  const r = rows.get(variant)!;
  r.set(column, [...(r.get(column) ?? []), d]);
};
for (const fold of values.folds.split(',').map(Number)) {
  const split = foldSplit(items.map((i) => i.actor), fold);
  const train = split.train.map((j) => items[j]!);
  for (const item of split.test.map((j) => items[j]!)) {
    const y = pool.get(item.path);
    const byDefault = cut(y, {});
    const clean = variants.map(([, o]) => cut(y, o));
    variants.forEach(([n], v) => push(n, 'vs-default', distance(clean[v]!, byDefault)));
    for (const c of BENCHMARK_CONDITIONS) {
      const name = conditionName(c);
      if (name === 'clean') continue;
      // the same seed per clip and condition for every variant, so they see the same noise
      const rng = new Generator(item.path.length * 7919 + name.length);
      const yc = applyCondition(y, c, { sampleRate: SAMPLE_RATE, rng, voices: () => otherVoices(train, item.actor, rng, pool) });
      variants.forEach(([n, o], v) => push(n, name, distance(cut(yc, o), clean[v]!)));
    }
  }
}
for (const [variant, r] of rows) {
  const cells = [...r].map(([column, d]) => {
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const off = (100 * d.filter((x) => x > TRIM_MARGIN_FRAMES).length) / d.length;
    return `${column} ${mean.toFixed(1)}/${off.toFixed(0)}%`;
  });
  const conditions = [...r].filter(([c]) => c !== 'vs-default').map(([, d]) => d.reduce((a, b) => a + b, 0) / d.length);
  console.log(`${variant}: mean over conditions ${(conditions.reduce((a, b) => a + b, 0) / conditions.length).toFixed(1)} frames; ${cells.join(', ')}`);
}
