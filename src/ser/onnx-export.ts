/**
 * The EmotionCNN as an ONNX graph, for serving with onnxruntime or Triton. Input `mfcc`, the raw
 * MFCC [N, 1, 40, 174] float32 (N dynamic), as `clipFeatures` gives it; output `logits` [N, 8].
 * Everything the weights file says about feeding the model is inside the graph, so a server needs
 * only the MFCC: the input normalisation (applied, as in training, to the content frames only: the
 * zero frames that pad a short clip stay zero), the Δ/ΔΔ channels (two fixed 1×9 convolutions),
 * and eval-mode batch norm folded into the convolutions before it. Operator set 13.
 */
import { type OnnxNode, type OnnxTensor, encodeOnnx } from '../nn/onnx.js';
import { EMOTIONS } from './labels.js';
import { DELTA_HALF_WIDTH, type EmotionCNN, N_FRAMES, N_MFCC, deltaKernel } from './model.js';
import type { InputNorm } from './normalize.js';

export interface OnnxExportOptions {
  /** The input normalisation the model was trained with (the recognizer's `normalizer`). */
  normalizer?: InputNorm | null;
  /** Written into the model's doc string. */
  description?: string;
}

/** Conv weights and bias with eval-mode batch norm folded in: y = γ·(conv(x) + b − μ)/√(σ² + ε) + β. */
function foldBatchNorm(conv: EmotionCNN['conv1'], bn: EmotionCNN['bn1']): { w: Float32Array; b: Float32Array } {
  const w = conv.weight.toArray();
  const bias = conv.bias?.toArray() ?? new Float32Array(conv.outChannels);
  const gamma = bn.weight.toArray();
  const beta = bn.bias.toArray();
  const mean = bn.runningMean.toArray();
  const variance = bn.runningVar.toArray();
  const per = w.length / conv.outChannels;
  const fw = new Float32Array(w.length);
  const fb = new Float32Array(conv.outChannels);
  for (let o = 0; o < conv.outChannels; o++) {
    const s = gamma[o]! / Math.sqrt(variance[o]! + bn.eps);
    for (let j = 0; j < per; j++) fw[o * per + j] = w[o * per + j]! * s;
    fb[o] = (bias[o]! - mean[o]!) * s + beta[o]!;
  }
  return { w: fw, b: fb };
}

/** The ONNX model of `model` (in eval mode) with its input normalisation, as bytes. */
export function exportOnnx(model: EmotionCNN, opts: OnnxExportOptions = {}): Uint8Array {
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const f32 = (name: string, dims: number[], data: ArrayLike<number>) => inits.push({ name, dims, data: Float32Array.from(data) });
  const i64scalar = (name: string, value: number) => inits.push({ name, dims: [], data: BigInt64Array.from([BigInt(value)]) });
  const node = (op: string, inputs: string[], output: string, attributes?: OnnxNode['attributes']) => {
    nodes.push({ op, inputs, outputs: [output], name: output, attributes });
    return output;
  };

  let x = 'mfcc';
  const norm = opts.normalizer;
  let content = '';
  if (norm) {
    // content frames: those up to the last frame with any non-zero coefficient (InputNorm.applyClip)
    f32('zero', [], [0]);
    i64scalar('axis_frames', 3);
    const peak = node('ReduceMax', [node('Abs', [x], 'abs')], 'frame_peak', { axes: [2], keepdims: 1 });
    const voiced = node('Cast', [node('Greater', [peak, 'zero'], 'frame_nonzero')], 'frame_nonzero_f', { to: 1 });
    const after = node('CumSum', [voiced, 'axis_frames'], 'nonzero_at_or_after', { reverse: 1 });
    content = node('Greater', [after, 'zero'], 'content');
  }
  if (norm) {
    f32('input_mean', [1, 1, N_MFCC, 1], norm.mean);
    f32('input_std', [1, 1, N_MFCC, 1], norm.std);
    const standardised = node('Div', [node('Sub', [x, 'input_mean'], 'centred'), 'input_std'], 'standardised');
    x = node('Where', [content, standardised, x], 'normalised');
  }
  if (model.deltas > 0) {
    f32('delta_kernel', [1, 1, 1, 2 * DELTA_HALF_WIDTH + 1], deltaKernel());
    const channels = [x];
    for (let d = 1; d <= model.deltas; d++) {
      channels.push(node('Conv', [channels.at(-1)!, 'delta_kernel'], `delta${d}`, { kernel_shape: [1, 2 * DELTA_HALF_WIDTH + 1], pads: [0, DELTA_HALF_WIDTH, 0, DELTA_HALF_WIDTH] }));
    }
    x = node('Concat', channels, 'channels', { axis: 1 });
  }
  const blocks = [[model.conv1, model.bn1], [model.conv2, model.bn2], [model.conv3, model.bn3]] as const;
  blocks.forEach(([conv, bn], i) => {
    const { w, b } = foldBatchNorm(conv, bn);
    f32(`conv${i + 1}.weight`, [...conv.weight.shape], w);
    f32(`conv${i + 1}.bias`, [conv.outChannels], b);
    const y = node('Conv', [x, `conv${i + 1}.weight`, `conv${i + 1}.bias`], `conv${i + 1}`, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    x = node('MaxPool', [node('Relu', [y], `relu${i + 1}`)], `pool${i + 1}`, { kernel_shape: [2, 2], strides: [2, 2] });
  });
  x = node('Flatten', [x], 'flat', { axis: 1 });
  for (const [name, fc] of [['fc1', model.fc1], ['fc2', model.fc2]] as const) {
    f32(`${name}.weight`, [...fc.weight.shape], fc.weight.toArray());
    f32(`${name}.bias`, [...fc.bias!.shape], fc.bias!.toArray());
    x = node('Gemm', [x, `${name}.weight`, `${name}.bias`], name === 'fc2' ? 'logits' : name, { transB: 1 });
    if (name === 'fc1') x = node('Relu', [x], 'fc1_relu');
  }
  return encodeOnnx({
    name: 'EmotionCNN', nodes, initializers: inits,
    inputs: [{ name: 'mfcc', dims: ['N', 1, N_MFCC, N_FRAMES] }],
    outputs: [{ name: 'logits', dims: ['N', EMOTIONS.length] }],
  }, { opset: 13, docString: opts.description ?? `EmotionCNN over MFCC ${N_MFCC}×${N_FRAMES}; logits for ${EMOTIONS.join(', ')}` });
}
