/**
 * TensorFlow.js in Node, to time beside ours in the same process: the pure-JS `cpu` backend for
 * training and inference, and the WebAssembly backend for inference only (it has no conv2d
 * backward kernel). Optional: missing packages skip it. The model is bench/tfjs-model.ts.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

type Tf = typeof import('@tensorflow/tfjs');

export { buildTfjsModel, type TfjsModel } from './tfjs-model.js';

export async function loadTfjs(): Promise<Tf | null> {
  try {
    const tf = await import('@tensorflow/tfjs');
    tf.env().set('PROD', true);
    return tf;
  } catch {
    return null;
  }
}

/** Selects `backend` ('cpu' or 'wasm'); false if it cannot start here. */
export async function useTfjsBackend(tf: Tf, backend: 'cpu' | 'wasm'): Promise<boolean> {
  try {
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '')}/`);
    }
    return await tf.setBackend(backend);
  } catch {
    return false;
  }
}
