/**
 * The microphone through getUserMedia and an AudioWorklet: blocks of mono float samples at the
 * audio context's rate, delivered to a callback on the main thread. The library resamples them
 * (as it does any input) when they are classified.
 */
import { AudioError } from '../audio/errors.js';

/** The worklet: forwards the first input channel in blocks of `block` samples (4096 ≈ 85 ms at 48 kHz). */
const PROCESSOR = `
class SerCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.block = options.processorOptions.block;
    this.buf = new Float32Array(this.block);
    this.n = 0;
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      for (let i = 0; i < ch.length; i++) {
        this.buf[this.n++] = ch[i];
        if (this.n === this.block) {
          this.port.postMessage(this.buf, [this.buf.buffer]);
          this.buf = new Float32Array(this.block);
          this.n = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor('ser-capture', SerCapture);
`;

export interface MicrophoneOptions {
  /** Called with each block of samples (at `sampleRate`), in order. */
  onSamples: (block: Float32Array) => void;
  /** Samples per block (default 4096). */
  block?: number;
}

export class Microphone {
  private constructor(
    private readonly ctx: AudioContext,
    private readonly stream: MediaStream,
    private readonly node: AudioWorkletNode,
  ) {}

  /** The rate of the delivered samples (the audio context's: the device's, typically 44.1 or 48 kHz). */
  get sampleRate(): number {
    return this.ctx.sampleRate;
  }

  /** Asks for the microphone and starts delivering samples. Refusal is an AudioError saying so. */
  static async open(opts: MicrophoneOptions): Promise<Microphone> {
    if (!globalThis.navigator?.mediaDevices?.getUserMedia) throw new AudioError('this browser offers no microphone access (it needs a secure page: https or localhost)');
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'NotAllowedError' || name === 'SecurityError') throw new AudioError('microphone permission was denied: allow it in the browser to record');
      if (name === 'NotFoundError') throw new AudioError('no microphone was found');
      throw new AudioError(`the microphone could not be opened: ${(e as Error).message}`);
    }
    const ctx = new AudioContext();
    const url = URL.createObjectURL(new Blob([PROCESSOR], { type: 'text/javascript' }));
    try {
      await ctx.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    const source = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, 'ser-capture', { processorOptions: { block: opts.block ?? 4096 }, numberOfOutputs: 0 });
    node.port.onmessage = (e: MessageEvent<Float32Array>) => opts.onSamples(e.data);
    source.connect(node);
    await ctx.resume();
    return new Microphone(ctx, stream, node);
  }

  /** Stops capture and releases the device. */
  async stop(): Promise<void> {
    this.node.port.onmessage = null;
    this.node.disconnect();
    for (const t of this.stream.getTracks()) t.stop();
    await this.ctx.close();
  }
}

/** The last `seconds` of a stream of blocks, in fixed memory. */
export class RecentSamples {
  private readonly buf: Float32Array;
  private filled = 0;
  private at = 0;
  /** Samples received in all. */
  total = 0;

  constructor(readonly sampleRate: number, readonly seconds: number) {
    this.buf = new Float32Array(Math.ceil(sampleRate * seconds));
  }

  push(block: Float32Array): void {
    for (let i = 0; i < block.length; i++) {
      this.buf[this.at] = block[i]!;
      this.at = (this.at + 1) % this.buf.length;
    }
    this.filled = Math.min(this.buf.length, this.filled + block.length);
    this.total += block.length;
  }

  /** The most recent samples, oldest first (at most `seconds` of them). */
  latest(): Float32Array {
    const out = new Float32Array(this.filled);
    const start = (this.at - this.filled + this.buf.length) % this.buf.length;
    const first = Math.min(this.filled, this.buf.length - start);
    out.set(this.buf.subarray(start, start + first));
    out.set(this.buf.subarray(0, this.filled - first), first);
    return out;
  }
}
