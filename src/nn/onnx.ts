/**
 * Writing ONNX models: the few protobuf messages a feed-forward graph needs (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto), encoded by hand. Protobuf's wire format
 * is small (varints and length-delimited fields), and a hand-written encoder of ~100 lines keeps the
 * library free of a code generator and a runtime dependency; field numbers are onnx.proto3's.
 */

type Bytes = number[];

function varint(n: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: Bytes = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, v: number): Bytes => [...key(field, 0), ...varint(v)];
const bytes = (field: number, b: ArrayLike<number>): Bytes => [...key(field, 2), ...varint(b.length), ...Array.from(b)];
const str = (field: number, s: string): Bytes => bytes(field, new TextEncoder().encode(s));
const float = (field: number, v: number): Bytes => [...key(field, 5), ...new Uint8Array(new Float32Array([v]).buffer)];

export const DataType = { FLOAT: 1, BOOL: 9, INT64: 7 } as const;

/** An initializer: a constant tensor, float32 or int64. */
export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export type OnnxAttribute = number | readonly number[] | { float: number } | { floats: readonly number[] };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Record<string, OnnxAttribute>;
}

/** A graph input or output: a float32 tensor whose dims are numbers or symbolic names ('N'). */
export interface OnnxValue {
  name: string;
  dims: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
}

function tensorProto(t: OnnxTensor): Bytes {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return [...t.dims.flatMap((d) => int(1, d)), ...int(2, t.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64), ...str(8, t.name), ...bytes(9, raw)];
}

function attribute(name: string, a: OnnxAttribute): Bytes {
  // AttributeProto: name 1, f 2, i 3, floats 7, ints 8, type 20 (FLOAT 1, INT 2, FLOATS 6, INTS 7)
  if (typeof a === 'number') return [...str(1, name), ...int(3, a), ...int(20, 2)];
  if (Array.isArray(a)) return [...str(1, name), ...(a as number[]).flatMap((v) => int(8, v)), ...int(20, 7)];
  if ('float' in (a as object)) return [...str(1, name), ...float(2, (a as { float: number }).float), ...int(20, 1)];
  return [...str(1, name), ...(a as { floats: number[] }).floats.flatMap((v) => float(7, v)), ...int(20, 6)];
}

function nodeProto(n: OnnxNode): Bytes {
  return [
    ...n.inputs.flatMap((i) => str(1, i)), ...n.outputs.flatMap((o) => str(2, o)), ...(n.name ? str(3, n.name) : []), ...str(4, n.op),
    ...Object.entries(n.attributes ?? {}).flatMap(([k, v]) => bytes(5, attribute(k, v))),
  ];
}

function valueInfo(v: OnnxValue): Bytes {
  // ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1: { dim_value 1 | dim_param 2 } } } } }
  const shape = v.dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return [...str(1, v.name), ...bytes(2, bytes(1, [...int(1, DataType.FLOAT), ...bytes(2, shape)]))];
}

/** The bytes of an ONNX model holding `graph`, for the default operator set at `opset`. */
export function encodeOnnx(graph: OnnxGraph, opts: { opset?: number; producer?: string; docString?: string } = {}): Uint8Array {
  const g: Bytes = [
    ...graph.nodes.flatMap((n) => bytes(1, nodeProto(n))), ...str(2, graph.name),
    ...graph.initializers.flatMap((t) => bytes(5, tensorProto(t))),
    ...graph.inputs.flatMap((v) => bytes(11, valueInfo(v))), ...graph.outputs.flatMap((v) => bytes(12, valueInfo(v))),
  ];
  // ModelProto: ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7, opset_import 8 { domain 1, version 2 }
  const model: Bytes = [
    ...int(1, 8), ...str(2, opts.producer ?? 'ser-ts'), ...(opts.docString ? str(6, opts.docString) : []),
    ...bytes(7, g), ...bytes(8, [...str(1, ''), ...int(2, opts.opset ?? 13)]),
  ];
  return new Uint8Array(model);
}
