/**
 * The Web Worker script behind RecognizerWorker: `import 'ser-ts/worker'` in a module worker. It
 * offers the 'cpu' backend, and 'gpu' (gpu.js, loaded only when first asked for).
 */
import { serveRecognizer, type WorkerScope } from './browser/worker-host.js';

serveRecognizer(globalThis as unknown as WorkerScope, { loadGpu: () => import('./gpu.js') });
