/**
 * CRC-32 (IEEE 802.3, as zlib's crc32), to tell a damaged or edited file from a good one. Not a
 * defence against someone forging a file, which no checksum stored beside the data is.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of the bytes of each part in turn (typed arrays by their bytes, strings as UTF-8), as 8 hex digits. */
export function crc32(...parts: (ArrayBufferView | string)[]): string {
  let c = 0xffffffff;
  for (const part of parts) {
    const b = typeof part === 'string' ? new TextEncoder().encode(part) : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
    for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
