/**
 * PyTorch's `torch.save` files (the zip format of PyTorch ≥ 1.6: `NAME/data.pkl` and one
 * `NAME/data/KEY` entry per storage), read without running anything from the file. The pickle is
 * interpreted by a small machine that knows only the opcodes a state dict uses and only the
 * globals PyTorch's `weights_only=True` loader needs for one (`collections.OrderedDict`, the tensor
 * and parameter rebuild functions, the storage types); any other global (`os.system`,
 * `builtins.eval`, …) is refused by name before anything is built. Sizes are checked against the
 * archive, so a hostile file costs no more memory than its own length.
 */
import { SerTsError } from '../tensor/errors.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { bf16ToFloat, halfToFloat } from './safetensors.js';

export class PthError extends SerTsError {}

const fail = (what: string): never => {
  throw new PthError(`PyTorch file: ${what}`);
};

// ── zip ────────────────────────────────────────────────────────────────────────────────────────

/** The entries of a zip archive that stores them uncompressed (as torch.save does), by name. */
function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (v.getUint32(at, true) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) fail('the zip archive has no end record (truncated, or not a torch.save file)');
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  const cdStart = v.getUint32(eocd + 16, true);
  if (count === 0xffff || cdStart === 0xffffffff) fail('ZIP64 archives (over 4 GiB or 65535 entries) are not supported');
  if (cdStart + cdSize > eocd) fail('the zip directory lies outside the file (truncated)');
  const entries = new Map<string, Uint8Array>();
  let at = cdStart;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || v.getUint32(at, true) !== 0x02014b50) fail(`zip directory entry ${i + 1} is damaged`);
    const method = v.getUint16(at + 10, true);
    const size = v.getUint32(at + 20, true);
    const rawSize = v.getUint32(at + 24, true);
    const nameLen = v.getUint16(at + 28, true);
    const extraLen = v.getUint16(at + 30, true);
    const commentLen = v.getUint16(at + 32, true);
    const local = v.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    if (size === 0xffffffff || local === 0xffffffff) fail('ZIP64 archives (over 4 GiB) are not supported');
    if (method !== 0 || size !== rawSize) fail(`zip entry '${name}' is compressed (method ${method}); torch.save stores entries uncompressed`);
    if (local + 30 > bytes.length || v.getUint32(local, true) !== 0x04034b50) fail(`zip entry '${name}' points to no local header (truncated or damaged)`);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (start + size > bytes.length) fail(`zip entry '${name}' runs past the end of the file (truncated)`);
    entries.set(name, bytes.subarray(start, start + size));
  }
  return entries;
}

// ── storages and tensors ───────────────────────────────────────────────────────────────────────

const STORAGES: Record<string, { bytes: number; read: (v: DataView, at: number) => number }> = {
  FloatStorage: { bytes: 4, read: (v, a) => v.getFloat32(a, true) },
  DoubleStorage: { bytes: 8, read: (v, a) => v.getFloat64(a, true) },
  HalfStorage: { bytes: 2, read: (v, a) => halfToFloat(v.getUint16(a, true)) },
  BFloat16Storage: { bytes: 2, read: (v, a) => bf16ToFloat(v.getUint16(a, true)) },
  LongStorage: { bytes: 8, read: (v, a) => Number(v.getBigInt64(a, true)) },
  IntStorage: { bytes: 4, read: (v, a) => v.getInt32(a, true) },
  ShortStorage: { bytes: 2, read: (v, a) => v.getInt16(a, true) },
  CharStorage: { bytes: 1, read: (v, a) => v.getInt8(a) },
  ByteStorage: { bytes: 1, read: (v, a) => v.getUint8(a) },
  BoolStorage: { bytes: 1, read: (v, a) => v.getUint8(a) },
};

class Global {
  constructor(readonly name: string) {}
}
class Storage {
  constructor(readonly type: string, readonly data: Uint8Array, readonly numel: number) {}
}
class Tuple {
  constructor(readonly items: unknown[]) {}
}
/** A tensor as the pickle describes it; turned into a Tensor once the whole file checked out. */
class TensorValue {
  constructor(readonly values: Float32Array, readonly shape: number[]) {}
}

/** What a state dict may name: the globals of PyTorch's weights_only loader that one needs. */
const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', ...Object.keys(STORAGES).map((s) => `torch.${s}`)]);

const int = (x: unknown, what: string): number => (typeof x === 'number' && Number.isSafeInteger(x) ? x : fail(`${what} is not an integer`));
const ints = (x: unknown, what: string): number[] => (x instanceof Tuple ? x.items.map((v, i) => int(v, `${what}[${i}]`)) : fail(`${what} is not a tuple`));

function rebuildTensor(args: unknown[]): TensorValue {
  const [storage, offsetArg, sizeArg, strideArg] = args;
  if (!(storage instanceof Storage)) fail('_rebuild_tensor_v2 without a storage');
  const s = storage as Storage;
  const offset = int(offsetArg, 'storage offset');
  const shape = ints(sizeArg, 'size');
  const stride = ints(strideArg, 'stride');
  if (shape.length !== stride.length || shape.some((d) => d < 0) || stride.some((d) => d < 0)) fail('a tensor has a size and stride that do not agree');
  const count = shape.reduce((p, d) => p * d, 1);
  // the last element the view reads must lie inside the storage
  const last = offset + shape.reduce((m, d, i) => m + (d > 0 ? (d - 1) * stride[i]! : 0), 0);
  if (count > 0 && (offset < 0 || last >= s.numel)) fail(`a tensor of size [${shape.join(', ')}] reads past its storage of ${s.numel} elements`);
  const { bytes, read } = STORAGES[s.type]!;
  const view = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
  const out = new Float32Array(count);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += idx[d]! * stride[d]!;
    out[i] = read(view, at * bytes);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return new TensorValue(out, shape);
}

// ── the pickle machine ─────────────────────────────────────────────────────────────────────────

const MAX_OPS = 20_000_000;

function unpickle(pkl: Uint8Array, storage: (key: string, type: string, numel: number) => Storage): unknown {
  const v = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  const need = (n: number) => {
    if (at + n > pkl.length) fail('the pickle ends in the middle of an instruction (truncated)');
    const start = at;
    at += n;
    return start;
  };
  const u8 = () => pkl[need(1)]!;
  const u16 = () => v.getUint16(need(2), true);
  const u32 = () => v.getUint32(need(4), true);
  const str = (n: number) => {
    const s = need(n);
    try {
      return text.decode(pkl.subarray(s, s + n));
    } catch {
      return fail('a string in the pickle is not UTF-8');
    }
  };
  const line = () => {
    const end = pkl.indexOf(0x0a, at);
    if (end < 0) fail('a GLOBAL name has no end (truncated)');
    const s = str(end - at);
    at++;
    return s;
  };
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const pop = () => (stack.length ? stack.pop() : fail(`the pickle pops an empty stack (at byte ${at - 1})`));
  const popMark = () => {
    const items = stack;
    stack = marks.pop() ?? fail('the pickle closes a MARK it never opened');
    return items;
  };
  const global = (module: string, name: string) => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) fail(`refusing to load: the pickle refers to '${full}', which a state dict never needs (nothing from the file was run)`);
    return new Global(full);
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) fail('SETITEM on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  for (let ops = 0; ops < MAX_OPS; ops++) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); break; // FRAME: a length hint
      case 0x2e: return pop(); // STOP
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(v.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        const s = need(n);
        let x = 0n;
        for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(pkl[s + i]!);
        if (n > 0 && pkl[s + n - 1]! & 0x80) x -= 1n << BigInt(8 * n);
        stack.push(x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : fail('an integer in the pickle is too large'));
        break;
      }
      case 0x47: stack.push(v.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x55: stack.push(str(u8())); break; // SHORT_BINSTRING
      case 0x54: stack.push(str(u32())); break; // BINSTRING
      case 0x43: { const n = u8(); const s = need(n); stack.push(pkl.slice(s, s + n)); break; } // SHORT_BINBYTES
      case 0x42: { const n = u32(); const s = need(n); stack.push(pkl.slice(s, s + n)); break; } // BINBYTES
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x74: { const t = new Tuple(popMark()); stack.push(t); break; } // TUPLE (popMark replaces `stack`: call it first)
      case 0x85: stack.push(new Tuple([pop()])); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push(new Tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new Tuple([a, b, c])); break; }
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: { const l = popMark(); stack.push(l); break; } // LIST
      case 0x61: { const x = pop(); const l = stack.at(-1); if (!Array.isArray(l)) fail('APPEND to something that is not a list'); (l as unknown[]).push(x); break; }
      case 0x65: { const xs = popMark(); const l = stack.at(-1); if (!Array.isArray(l)) fail('APPENDS to something that is not a list'); (l as unknown[]).push(...xs); break; }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const d = new Map(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const val = pop(); const key = pop(); setItems(stack.at(-1), [key, val]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(stack.at(-1), items); break; } // SETITEMS
      case 0x63: { const module = line(); stack.push(global(module, line())); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(global(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x52: { // REDUCE: call an allowed global
        const args = pop();
        const f = pop();
        if (!(f instanceof Global) || !(args instanceof Tuple)) fail('REDUCE of something that is not an allowed function');
        const name = (f as Global).name;
        const a = (args as Tuple).items;
        if (name === 'collections.OrderedDict') stack.push(new Map());
        else if (name === 'torch._utils._rebuild_tensor_v2') stack.push(rebuildTensor(a));
        else if (name === 'torch._utils._rebuild_parameter') stack.push(a[0] instanceof TensorValue ? a[0] : fail('_rebuild_parameter without a tensor'));
        else fail(`refusing to call '${name}'`);
        break;
      }
      case 0x62: { // BUILD: only an OrderedDict's attributes (its _metadata), which are dropped
        pop();
        if (!(stack.at(-1) instanceof Map)) fail('BUILD on something that is not a dict (an object the pickle would construct)');
        break;
      }
      case 0x51: { // BINPERSID: ('storage', StorageType, key, location, numel)
        const pid = pop();
        const t = pid instanceof Tuple ? pid.items : [];
        if (t[0] !== 'storage' || !(t[1] instanceof Global) || typeof t[2] !== 'string') fail('a persistent id that is not a storage');
        stack.push(storage(t[2] as string, (t[1] as Global).name.replace(/^torch\./, ''), int(t[4], 'storage size')));
        break;
      }
      case 0x71: memo.set(u8(), stack.at(-1)); break; // BINPUT
      case 0x72: memo.set(u32(), stack.at(-1)); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack.at(-1)); break; // MEMOIZE
      case 0x68: { const k = u8(); stack.push(memo.has(k) ? memo.get(k) : fail(`the pickle reads memo slot ${k}, never written`)); break; }
      case 0x6a: { const k = u32(); stack.push(memo.has(k) ? memo.get(k) : fail(`the pickle reads memo slot ${k}, never written`)); break; }
      default:
        fail(`the pickle uses opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}), which a state dict never needs`);
    }
  }
  return fail('the pickle runs too long');
}

// ── the file ───────────────────────────────────────────────────────────────────────────────────

/** Whether bytes look like a torch.save zip archive. */
export const isPth = (bytes: Uint8Array) => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/** The pickle protocol byte that starts a legacy (pre-1.6) torch.save file. */
const isLegacyPth = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5;

/** Whether bytes are a torch.save file of either format (the legacy one is refused by loadPth, saying so). */
export const isTorchSave = (bytes: Uint8Array) => isPth(bytes) || isLegacyPth(bytes);

/**
 * The tensors of a PyTorch state dict saved with `torch.save` (a plain or nested dict of tensors:
 * `{'state_dict': …}`, `{'model_state_dict': …}` and `{'model': …}` are looked into), as float32.
 */
export function loadPth(bytes: Uint8Array): Record<string, Tensor> {
  if (isLegacyPth(bytes)) fail('this is the legacy torch.save format (PyTorch < 1.6, or _use_new_zipfile_serialization=False): save it again with a current PyTorch, or as safetensors');
  if (!isPth(bytes)) fail('not a torch.save zip archive');
  const entries = readZip(bytes);
  const pklName = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) fail('the archive has no NAME/data.pkl');
  const prefix = pklName!.slice(0, -'data.pkl'.length);
  const storages = new Map<string, Storage>();
  const top = unpickle(entries.get(pklName!)!, (key, type, numel) => {
    const spec = STORAGES[type];
    if (!spec) fail(`unknown storage type '${type}'`);
    const data = entries.get(`${prefix}data/${key}`) ?? fail(`storage '${key}' is missing from the archive`);
    if (numel < 0 || numel * spec!.bytes > data.length) fail(`storage '${key}' claims ${numel} elements but holds ${Math.floor(data.length / spec!.bytes)}`);
    let s = storages.get(key);
    if (!s) storages.set(key, (s = new Storage(type, data, numel)));
    return s;
  });
  const asTensors = (d: unknown) => d instanceof Map && d.size > 0 && [...d.entries()].every(([k, t]) => typeof k === 'string' && t instanceof TensorValue);
  let dict = top;
  if (!asTensors(dict) && dict instanceof Map) {
    const nested = ['state_dict', 'model_state_dict', 'model'].map((k) => (dict as Map<unknown, unknown>).get(k)).find(asTensors);
    if (nested) dict = nested;
  }
  if (!asTensors(dict)) {
    const keys = dict instanceof Map ? [...dict.keys()].slice(0, 8).map(String).join(', ') : typeof dict;
    fail(`the file holds no state dict of tensors (found: ${keys}); save model.state_dict()`);
  }
  const out: Record<string, Tensor> = Object.create(null);
  for (const [k, t] of dict as Map<string, TensorValue>) out[k] = tensor(t.values, t.shape);
  return out;
}
