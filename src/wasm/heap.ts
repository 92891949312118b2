/**
 * A kernel instance's WebAssembly memory seen as float32, int32 and float64 arrays from address 0,
 * grown (never shrunk) to hold what a call needs. Growing detaches every earlier view of the
 * buffer, so the views are renewed here, in one place, and callers read them after `ensure`.
 */
const PAGE_BYTES = 65536;

export class WasmHeap {
  f32: Float32Array;
  i32: Int32Array;
  f64: Float64Array;

  constructor(readonly memory: WebAssembly.Memory) {
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
  }

  /** Room for `floats` float32 values from address 0. */
  ensure(floats: number): void {
    if (this.f32.length >= floats) return;
    this.memory.grow(Math.ceil((4 * floats - this.memory.buffer.byteLength) / PAGE_BYTES));
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }
}
