/**
 * The EmotionCNN in TensorFlow.js (NHWC, the same layers and sizes), for whatever backend is
 * selected: browser-safe, so bench/webgl-page.ts runs it on WebGL in Chromium and bench/tfjs.ts in
 * Node on the cpu and wasm backends.
 */
type Tf = typeof import('@tensorflow/tfjs');

export interface TfjsModel {
  backend: string;
  /** One Adam step on a batch; null where the backend cannot train. */
  trainStep: ((batch: number) => void) | null;
  infer: (batch: number) => void;
  conv: (layer: 1 | 2 | 3, batch: number) => void;
  dispose(): void;
}

export function buildTfjsModel(tf: Tf): TfjsModel {
  const m = tf.sequential();
  for (const [i, filters] of [16, 32, 64].entries()) {
    m.add(tf.layers.conv2d({ ...(i === 0 ? { inputShape: [40, 174, 1] } : {}), filters, kernelSize: 3, padding: 'same' }));
    m.add(tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }));
    m.add(tf.layers.reLU());
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.dense({ units: 8 }));
  const optimizer = tf.train.adam(5e-4);
  const inputs = new Map<number, { x: import('@tensorflow/tfjs').Tensor; y: import('@tensorflow/tfjs').Tensor }>();
  const input = (batch: number) => {
    let v = inputs.get(batch);
    if (!v) {
      v = { x: tf.randomNormal([batch, 40, 174, 1]), y: tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8) };
      inputs.set(batch, v);
    }
    return v;
  };
  const convInputs = new Map<string, [import('@tensorflow/tfjs').Tensor4D, import('@tensorflow/tfjs').Tensor4D]>();
  const shapes = { 1: [40, 174, 1, 16], 2: [20, 87, 16, 32], 3: [10, 43, 32, 64] } as const;
  const backend = tf.getBackend();
  return {
    backend,
    trainStep: backend === 'wasm' ? null : (batch) => {
      const { x, y } = input(batch);
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar, true);
      loss?.dataSync();
      loss?.dispose();
    },
    infer: (batch) => {
      const { x } = input(batch); // outside tidy, which would dispose the cached input
      const out = tf.tidy(() => m.predict(x) as import('@tensorflow/tfjs').Tensor);
      out.dataSync();
      out.dispose();
    },
    conv: (layer, batch) => {
      const key = `${layer}/${batch}`;
      let v = convInputs.get(key);
      if (!v) {
        const [h, w, ci, co] = shapes[layer];
        v = [tf.randomNormal([batch, h, w, ci]), tf.randomNormal([3, 3, ci, co])];
        convInputs.set(key, v);
      }
      const out = tf.conv2d(v[0], v[1], 1, 'same');
      out.dataSync();
      out.dispose();
    },
    dispose: () => {
      m.dispose();
      for (const v of inputs.values()) tf.dispose([v.x, v.y]);
      for (const v of convInputs.values()) tf.dispose(v);
    },
  };
}
