/**
 * The safetensors format (what `safetensors.torch.save_file` writes), in bytes, with no file
 * system: an 8-byte little-endian header length, a JSON header mapping names to dtype, shape and
 * byte offsets, then the raw little-endian data. Loading converts every float or integer dtype to
 * float32 tensors; saving writes F32, and I64 for keys named as integer buffers (PyTorch's
 * `num_batches_tracked`), so PyTorch's load_state_dict accepts the file unchanged.
 */
import { SerTsError, fmtShape } from '../tensor/errors.js';
import { sizeOf } from '../tensor/shape.js';
import { type Tensor, tensor } from '../tensor/tensor.js';

export class SafetensorsError extends SerTsError {}

type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const BYTES: Record<DType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

interface Entry {
  dtype: DType;
  shape: number[];
  data_offsets: [number, number];
}

const MAX_HEADER = 100 * 1024 * 1024;

export interface SaveOptions {
  /** Free-form string metadata stored in the header's __metadata__. */
  metadata?: Record<string, string>;
  /** Keys stored as I64 (default: those ending in 'num_batches_tracked'). */
  isInteger?: (key: string) => boolean;
}

export function saveSafetensors(tensors: Record<string, Tensor>, opts: SaveOptions = {}): Uint8Array {
  const isInt = opts.isInteger ?? ((k: string) => k.endsWith('num_batches_tracked'));
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const values = t.toArray();
    let bytes: Uint8Array;
    let dtype: DType;
    if (isInt(name)) {
      const ints = new BigInt64Array(values.length);
      values.forEach((v, i) => (ints[i] = BigInt(Math.round(v))));
      bytes = new Uint8Array(ints.buffer);
      dtype = 'I64';
    } else {
      bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      dtype = 'F32';
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align data to 8 bytes, as the reference writer does
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface Loaded {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Reads safetensors bytes as the format's specification says, strictly: the header is a JSON object
 * starting with '{' (no byte-order mark), each entry exactly `{ dtype, shape, data_offsets }` with a
 * known dtype string, a shape of non-negative integers and two offsets that match the shape; the
 * entries tile the data section with no gap and no overlap (so no two names share bytes, and no
 * file decodes to more than it holds); `__metadata__` is a string→string map. The maps returned
 * have no prototype, so a tensor named `__proto__` or `constructor` is just a name.
 */
export function loadSafetensors(bytes: Uint8Array): Loaded {
  const bad = (what: string): never => {
    throw new SafetensorsError(`safetensors: ${what}`);
  };
  if (!(bytes instanceof Uint8Array)) bad('expects the file contents as a Uint8Array');
  if (bytes.length < 8) bad(`${bytes.length} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) bad(`header length ${n} does not fit a file of ${bytes.length} bytes (truncated or not safetensors)`);
  if (n < 2 || bytes[8] !== 0x7b) bad(`the header does not start with '{' (byte ${bytes[8] ?? 'none'}): not safetensors`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = Object.create(null);
  const entries: { name: string; e: Entry }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`__metadata__ value '${k}' must be a string, got ${JSON.stringify(v)?.slice(0, 40)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as Entry;
    const keys = e && typeof e === 'object' && !Array.isArray(e) ? Object.keys(e).sort().join(',') : '';
    if (keys !== 'data_offsets,dtype,shape') bad(`entry '${name}' must be an object with exactly dtype, shape and data_offsets`);
    if (typeof e.dtype !== 'string' || !Object.hasOwn(BYTES, e.dtype)) bad(`entry '${name}' has an unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`entry '${name}' has a shape that is not a list of non-negative integers`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || e.data_offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) bad(`entry '${name}' needs data_offsets [begin, end] of two non-negative integers`);
    const [begin, end] = e.data_offsets;
    if (end < begin || end > dataLen || end - begin !== sizeOf(e.shape) * BYTES[e.dtype]) {
      bad(`'${name}' (${e.dtype} ${fmtShape(e.shape)}) has offsets [${begin}, ${end}] that do not fit its size or the file`);
    }
    entries.push({ name, e });
  }
  // the entries must tile the data section: sorted by offset, each starts where the last ended
  entries.sort((p, q) => p.e.data_offsets[0] - q.e.data_offsets[0]);
  let at = 0;
  for (const { name, e } of entries) {
    if (e.data_offsets[0] !== at) bad(`'${name}' starts at byte ${e.data_offsets[0]} of the data, expected ${at}: entries ${e.data_offsets[0] < at ? 'overlap' : 'leave a gap'}`);
    at = e.data_offsets[1];
  }
  if (at !== dataLen) bad(`the entries cover ${at} of the ${dataLen} data bytes`);
  const tensors: Record<string, Tensor> = Object.create(null);
  for (const { name, e } of entries) tensors[name] = tensor(decode(bytes, dataStart + e.data_offsets[0], sizeOf(e.shape), e.dtype), e.shape);
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, at: number, count: number, dtype: DType): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, count * BYTES[dtype]);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32': out[i] = v.getFloat32(i * 4, true); break;
      case 'F64': out[i] = v.getFloat64(i * 8, true); break;
      case 'F16': out[i] = halfToFloat(v.getUint16(i * 2, true)); break;
      case 'BF16': out[i] = bf16ToFloat(v.getUint16(i * 2, true)); break;
      case 'I64': out[i] = Number(v.getBigInt64(i * 8, true)); break;
      case 'I32': out[i] = v.getInt32(i * 4, true); break;
      case 'I16': out[i] = v.getInt16(i * 2, true); break;
      case 'I8': out[i] = v.getInt8(i); break;
      case 'U8': case 'BOOL': out[i] = v.getUint8(i); break;
    }
  }
  return out;
}

/** IEEE half-precision bits → number (safetensors F16, PyTorch HalfStorage). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits → number (safetensors BF16, PyTorch BFloat16Storage). */
export function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, b << 16);
  return buf.getFloat32(0);
}
