// The recognizer's Web Worker: the library's worker script, nothing more (an app would write `import 'ser-ts/worker'`).
import '../../src/worker.js';
