// The CPU backend is always available and is the default; imported for its effect by tensor.ts,
// so any way of reaching tensors (the package entry or a single module) has a backend.
import { registerBackend } from '../backend.js';
import { createCpuBackend } from './index.js';

registerBackend('cpu', createCpuBackend, { makeDefault: true });
