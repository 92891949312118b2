/**
 * The web app: an audio file or the microphone in, the emotion out, with what the model hears
 * (waveform, MFCC) drawn beside it. The model runs in a Web Worker (RecognizerWorker), so the page
 * never freezes; a WAV file is decoded there by the library exactly as `ser predict` decodes it.
 *
 *   npm run web:build && npm run web:serve      # then open http://localhost:8080
 */
import { EMOTIONS, type Prediction, type WindowPrediction } from '../../src/ser/index.js';
import { bundledWeightUrls } from '../../src/ser/load.js';
import { Microphone, RecentSamples, RecognizerWorker, type PredictReply, decodeAudio, isWav, monoOf, wavLayout, wavSegments } from '../../src/browser.js';

/** Colours of the eight emotions, in EMOTIONS' (alphabetical) order. */
const COLOURS = ['#d93025', '#34a853', '#8d6e63', '#9334e6', '#fbbc04', '#9aa0a6', '#1a73e8', '#ff6d01'];
/** WAV files longer than this are read and scored a segment at a time, with a progress bar. */
const LONG_SECONDS = 120;
const SEGMENT_SECONDS = 60;
/** Compressed files are decoded whole by the browser: refuse the ones too large for that. */
const MAX_COMPRESSED_BYTES = 64 * 1024 * 1024;
const LIVE_SECONDS = 4.1;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  file: $<HTMLInputElement>('file'), drop: $('drop'), record: $<HTMLButtonElement>('record'),
  progress: $<HTMLProgressElement>('progress'), status: $('status'), error: $('error'),
  label: $('label'), bars: $('probabilities'), timing: $('timing'), windows: $('windows'), legend: $('legend'),
  waveform: $<HTMLCanvasElement>('waveform'), mfcc: $<HTMLCanvasElement>('mfcc'), timeline: $<HTMLCanvasElement>('timeline'),
};

/** What the tests (and a curious developer) can read from the console: the last answer and the state. */
interface AppState {
  ready: boolean;
  busy: boolean;
  backend: string;
  mode?: string;
  /** Why 'auto' chose the backend it did. */
  autoReason?: string;
  last: { prediction: Prediction; backend: string; ms: PredictReply['ms'] } | null;
  timeline: { start: number; end: number; label: string | null }[];
  errors: string[];
}
const state: AppState = { ready: false, busy: false, backend: 'cpu', last: null, timeline: [], errors: [] };
(globalThis as unknown as { serApp: AppState }).serApp = state;

let recognizer: RecognizerWorker;
/** The last file, to score again when the backend changes. */
let lastFile: File | null = null;
let mic: Microphone | null = null;

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function showError(text: string | null): void {
  ui.error.hidden = text === null;
  ui.error.textContent = text ?? '';
  if (text) state.errors.push(text);
}

const percent = (p: number) => `${(100 * p).toFixed(1)}%`;

function showProbabilities(p: Prediction['probabilities'], label: string | null): void {
  ui.label.textContent = label ?? 'no speech detected';
  if (!p) return void ui.bars.replaceChildren();
  ui.bars.replaceChildren(...EMOTIONS.map((e, i) => {
    const li = document.createElement('li');
    li.innerHTML = `<span>${e}</span><span class="bar" role="meter" aria-label="${e}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${(100 * p[e]).toFixed(1)}"><span class="fill" style="width:${100 * p[e]}%;background:${COLOURS[i]}"></span></span><span>${percent(p[e])}</span>`;
    return li;
  }));
}

// ── drawing ────────────────────────────────────────────────────────────────────────────────────

/** Min/max of each pixel column: a waveform of any length in fixed memory. */
class Envelope {
  readonly min: Float32Array;
  readonly max: Float32Array;
  constructor(readonly width: number, readonly total: number) {
    this.min = new Float32Array(width).fill(0);
    this.max = new Float32Array(width).fill(0);
  }
  add(samples: Float32Array, offset: number): void {
    for (let i = 0; i < samples.length; i++) {
      const x = Math.min(this.width - 1, Math.floor(((offset + i) / this.total) * this.width));
      const v = samples[i]!;
      if (v < this.min[x]!) this.min[x] = v;
      if (v > this.max[x]!) this.max[x] = v;
    }
  }
}

function drawWaveform(env: Envelope, seconds: number): void {
  const c = ui.waveform.getContext('2d')!;
  const { width: w, height: h } = ui.waveform;
  c.fillStyle = '#0f1720';
  c.fillRect(0, 0, w, h);
  c.fillStyle = '#7dd3fc';
  const peak = Math.max(1e-6, ...env.max, ...env.min.map((v) => -v));
  for (let x = 0; x < env.width; x++) {
    const top = h / 2 - (env.max[x]! / peak) * (h / 2 - 2);
    const bottom = h / 2 - (env.min[x]! / peak) * (h / 2 - 2);
    c.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
  ui.waveform.setAttribute('aria-label', `Waveform of ${seconds.toFixed(1)} seconds of audio`);
}

/** The MFCC as a heatmap: coefficient 0 at the bottom, each row scaled to its own range. */
function drawMfcc(m: { data: Float32Array; frames: number }): void {
  const c = ui.mfcc.getContext('2d')!;
  const rows = 40;
  const img = c.createImageData(m.frames, rows);
  for (let r = 0; r < rows; r++) {
    const row = m.data.subarray(r * m.frames, (r + 1) * m.frames);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    for (let f = 0; f < m.frames; f++) {
      const t = hi > lo ? (row[f]! - lo) / (hi - lo) : 0.5;
      const at = ((rows - 1 - r) * m.frames + f) * 4;
      // a dark-blue → yellow ramp
      img.data[at] = 255 * Math.min(1, 1.6 * t);
      img.data[at + 1] = 255 * t * t;
      img.data[at + 2] = 255 * Math.max(0, 0.6 - t);
      img.data[at + 3] = 255;
    }
  }
  const tmp = document.createElement('canvas');
  tmp.width = m.frames;
  tmp.height = rows;
  tmp.getContext('2d')!.putImageData(img, 0, 0);
  c.imageSmoothingEnabled = false;
  c.drawImage(tmp, 0, 0, ui.mfcc.width, ui.mfcc.height);
  ui.mfcc.setAttribute('aria-label', `MFCC heatmap: 40 coefficients over ${m.frames} frames (${((m.frames * 512) / 22050).toFixed(1)} s)`);
}

function drawTimeline(seconds: number): void {
  const c = ui.timeline.getContext('2d')!;
  const { width: w, height: h } = ui.timeline;
  c.fillStyle = '#0f1720';
  c.fillRect(0, 0, w, h);
  const span = Math.max(seconds, ...state.timeline.map((t) => t.end), 1e-3);
  for (const t of state.timeline) {
    c.fillStyle = t.label === null ? '#3c4043' : COLOURS[EMOTIONS.indexOf(t.label as never)]!;
    const x0 = (t.start / span) * w;
    c.fillRect(x0, 4, Math.max(2, ((t.end - t.start) / span) * w - 1), h - 8);
  }
  ui.timeline.setAttribute('aria-label', `Emotion timeline: ${state.timeline.length} windows over ${span.toFixed(1)} seconds`);
  ui.windows.replaceChildren(...state.timeline.slice(-60).map((t) => {
    const li = document.createElement('li');
    li.textContent = `${t.start.toFixed(1)}–${t.end.toFixed(1)} s: ${t.label ?? 'no speech'}`;
    return li;
  }));
}

function addWindows(ws: readonly WindowPrediction[], offset: number, fallback: Prediction): void {
  const list = ws.length ? ws : [{ start: 0, end: fallback.seconds, label: fallback.label }];
  for (const w of list) state.timeline.push({ start: offset + w.start, end: offset + w.end, label: w.label });
}

function showTiming(r: PredictReply): void {
  ui.timing.textContent = `${r.backend}${state.mode ? ` (${state.mode})` : ''}: features ${r.ms.features.toFixed(1)} ms, model ${r.ms.model.toFixed(1)} ms`;
}

// ── files ──────────────────────────────────────────────────────────────────────────────────────

async function classifyFile(file: File): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  showError(null);
  lastFile = file;
  state.timeline = [];
  try {
    if (file.size === 0) throw new Error('the file is empty');
    const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
    if (isWav(head)) {
      const layout = await wavLayout(file);
      if (layout.frames / layout.sampleRate > LONG_SECONDS) return await classifyLongWav(file, layout.frames / layout.sampleRate);
      setStatus(`Classifying ${file.name}…`);
      const bytes = await file.arrayBuffer();
      const mono = monoOf(await decodeAudio(bytes.slice(0)));
      const env = new Envelope(ui.waveform.width, mono.length);
      env.add(mono, 0);
      drawWaveform(env, mono.length / layout.sampleRate);
      // the bytes themselves go to the worker: decoded by the library there, exactly as `ser predict` does
      show(await recognizer.predict(bytes, { features: true }), 0);
    } else {
      if (file.size > MAX_COMPRESSED_BYTES) throw new Error(`${file.name} is ${(file.size / 2 ** 20).toFixed(0)} MB: too large for the browser's decoder here; convert it to WAV, which is read a segment at a time`);
      setStatus(`Decoding ${file.name}…`);
      const audio = await decodeAudio(file);
      const mono = monoOf(audio);
      const env = new Envelope(ui.waveform.width, mono.length);
      env.add(mono, 0);
      drawWaveform(env, mono.length / audio.sampleRate);
      setStatus(`Classifying ${file.name}…`);
      show(await recognizer.predict(mono, { sampleRate: audio.sampleRate, features: true }), 0);
    }
    setStatus(`${file.name}: ${state.last!.prediction.label ?? 'no speech'}`);
  } catch (e) {
    fail(e, file.name);
  } finally {
    state.busy = false;
  }
}

/** A long recording, a minute at a time: bounded memory, a progress bar, the timeline growing. */
async function classifyLongWav(file: File, seconds: number): Promise<void> {
  ui.progress.hidden = false;
  ui.progress.value = 0;
  const env = new Envelope(ui.waveform.width, 1);
  const sums = new Float64Array(EMOTIONS.length);
  let scored = 0;
  try {
    for await (const seg of wavSegments(file, SEGMENT_SECONDS)) {
      (env as { total: number }).total = seg.total;
      env.add(seg.samples, seg.start);
      const offset = seg.start / seg.sampleRate;
      try {
        const r = await recognizer.predict(seg.samples, { sampleRate: seg.sampleRate, features: true });
        addWindows(r.prediction.windows, offset, r.prediction);
        const p = r.prediction.probabilities;
        if (p) {
          EMOTIONS.forEach((e, i) => (sums[i] += p[e] * r.prediction.seconds));
          scored += r.prediction.seconds;
        }
        drawMfcc(r.mfcc!);
        showTiming(r);
      } catch (e) {
        // a silent minute is part of a recording, not a failure of it
        if (!/silent|no samples/.test((e as Error).message)) throw e;
        state.timeline.push({ start: offset, end: offset + seg.samples.length / seg.sampleRate, label: null });
      }
      ui.progress.value = (seg.start + seg.samples.length) / seg.total;
      setStatus(`Classifying ${file.name}: ${Math.round(100 * ui.progress.value)}% of ${(seconds / 60).toFixed(0)} min`);
      drawWaveform(env, seconds);
      drawTimeline(seconds);
    }
    const mean = scored ? (Object.fromEntries(EMOTIONS.map((e, i) => [e, sums[i]! / scored])) as NonNullable<Prediction['probabilities']>) : null;
    const label = mean ? EMOTIONS.reduce((b, e) => (mean[e] > mean[b] ? e : b), EMOTIONS[0]) : null;
    showProbabilities(mean, label);
    state.last = { prediction: { label, speech: mean !== null, probabilities: mean, seconds, windows: [] }, backend: state.backend, ms: { features: 0, model: 0 } };
    setStatus(`${file.name}: ${label} on average over ${(seconds / 60).toFixed(1)} min (see the timeline)`);
  } finally {
    ui.progress.hidden = true;
  }
}

function show(r: PredictReply, offset: number): void {
  state.last = { prediction: r.prediction, backend: r.backend, ms: r.ms };
  showProbabilities(r.prediction.probabilities, r.prediction.label);
  if (r.mfcc) drawMfcc(r.mfcc);
  addWindows(r.prediction.windows, offset, r.prediction);
  drawTimeline(r.prediction.seconds);
  showTiming(r);
}

function fail(e: unknown, what: string): void {
  const message = (e as Error)?.message ?? String(e);
  showError(`${what}: ${message}`);
  setStatus('Ready: choose a file or record.');
}

// ── microphone ─────────────────────────────────────────────────────────────────────────────────

async function toggleRecording(): Promise<void> {
  if (mic) {
    await mic.stop();
    mic = null;
    ui.record.setAttribute('aria-pressed', 'false');
    ui.record.textContent = 'Record from the microphone';
    setStatus('Recording stopped.');
    return;
  }
  showError(null);
  state.timeline = [];
  let recent: RecentSamples | null = null;
  let sinceScored = 0;
  let scoring = false;
  const env = { all: new Envelope(ui.waveform.width, 1) };
  try {
    mic = await Microphone.open({
      onSamples: (block) => {
        recent ??= new RecentSamples(mic!.sampleRate, LIVE_SECONDS);
        recent.push(block);
        sinceScored += block.length;
        // live: score the last 4 s once a second (skipped while the previous answer is still coming)
        if (sinceScored >= mic!.sampleRate && !scoring) {
          sinceScored = 0;
          scoring = true;
          const samples = recent.latest();
          const end = recent.total / recent.sampleRate;
          const w = new Envelope(ui.waveform.width, samples.length);
          w.add(samples, 0);
          env.all = w;
          drawWaveform(w, samples.length / recent.sampleRate);
          recognizer.predict(samples, { sampleRate: recent.sampleRate, features: true })
            .then((r) => {
              state.last = { prediction: r.prediction, backend: r.backend, ms: r.ms };
              showProbabilities(r.prediction.probabilities, r.prediction.label);
              drawMfcc(r.mfcc!);
              showTiming(r);
              state.timeline.push({ start: Math.max(0, end - r.prediction.seconds), end, label: r.prediction.label });
            })
            .catch((e) => {
              if (!/silent/.test((e as Error).message)) return fail(e, 'microphone');
              state.timeline.push({ start: Math.max(0, end - LIVE_SECONDS), end, label: null });
              ui.label.textContent = 'no speech';
            })
            .finally(() => {
              scoring = false;
              drawTimeline(end);
            });
        }
      },
    });
    ui.record.setAttribute('aria-pressed', 'true');
    ui.record.textContent = 'Stop recording';
    setStatus(`Recording at ${mic.sampleRate} Hz: the emotion of the last 4 seconds, once a second.`);
  } catch (e) {
    mic = null;
    fail(e, 'microphone');
  }
}

// ── start-up ───────────────────────────────────────────────────────────────────────────────────

async function setBackend(name: string): Promise<void> {
  const radios = [...document.querySelectorAll<HTMLInputElement>('input[name=backend]')];
  radios.forEach((r) => (r.disabled = true));
  setStatus(`Switching to the ${name.toUpperCase()} backend…`);
  try {
    const r = await recognizer.setBackend(name);
    state.backend = r.backend;
    state.mode = r.backend === 'gpu' ? r.mode : undefined;
    state.autoReason = r.reason;
    setStatus(`Backend: ${r.backend}${state.mode ? ` (${state.mode})` : ''}${r.reason ? `, chosen by auto: ${r.reason}` : ''}.`);
    if (lastFile && !mic) await classifyFile(lastFile);
  } catch (e) {
    fail(e, `the ${name} backend`);
    const current = radios.find((r) => r.value === state.backend);
    if (current) current.checked = true;
  } finally {
    radios.forEach((r) => (r.disabled = false));
  }
}

async function start(): Promise<void> {
  ui.legend.replaceChildren(...EMOTIONS.map((e, i) => {
    const s = document.createElement('span');
    s.innerHTML = `<i style="background:${COLOURS[i]}"></i>${e}`;
    return s;
  }));
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  recognizer = await RecognizerWorker.load(worker, bundledWeightUrls('ensemble', new URL('./weights/', location.href)));
  ui.file.addEventListener('change', () => ui.file.files?.[0] && void classifyFile(ui.file.files[0]));
  ui.drop.addEventListener('dragover', (e) => { e.preventDefault(); ui.drop.classList.add('over'); });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void classifyFile(f);
  });
  ui.record.addEventListener('click', () => void toggleRecording());
  document.querySelectorAll<HTMLInputElement>('input[name=backend]').forEach((r) => r.addEventListener('change', () => r.checked && void setBackend(r.value)));
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('./sw.js').catch(() => { /* offline use is a bonus, not a requirement */ });
  state.ready = true;
  setStatus(`Ready: the model (${recognizer.info.members} seeds averaged) is loaded. Choose a file or record.`);
}

start().catch((e) => fail(e, 'start-up'));
