// Starts worker.ts when the library runs from its TypeScript sources (tests, tsx): Node 20 does
// not apply `--import tsx` to worker threads, so load the worker through tsx's API instead.
// Built code (dist/) starts worker.js directly and never uses this file.
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
