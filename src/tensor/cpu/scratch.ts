/**
 * Grow-only scratch buffers, keyed by purpose, so im2col and friends allocate once per process
 * rather than once per call. Kernels are synchronous and never re-entrant, so one buffer per key
 * is safe.
 */
const pool = new Map<string, Float32Array>();

export function scratch(key: string, size: number): Float32Array {
  let buf = pool.get(key);
  if (!buf || buf.length < size) {
    buf = new Float32Array(size);
    pool.set(key, buf);
  }
  return buf;
}
