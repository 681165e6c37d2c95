import { ScriptException } from '../host-call.ts';

/**
 * Apps Script's Byte[] is a Java byte array: an array of signed integers -128..127.
 * computeHmacSha256Signature, getContent() and base64Decode return that shape.
 */
export function toSignedBytes(buffer: Uint8Array): number[] {
  return Array.from(buffer, (b) => (b > 127 ? b - 256 : b));
}

/** A string (encoded as UTF-8, or US-ASCII when asked) or a Byte[] as raw bytes. */
export function toBuffer(data: unknown, charset?: string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, charset === 'US_ASCII' ? 'latin1' : 'utf8');
  if (Array.isArray(data)) return Buffer.from(data.map((b) => Number(b) & 0xff));
  if (data instanceof Uint8Array) return Buffer.from(data);
  if (data && typeof (data as { getBytes?: unknown }).getBytes === 'function') {
    return toBuffer((data as { getBytes(): number[] }).getBytes());
  }
  return Buffer.from(String(data), 'utf8');
}

/**
 * Google documents the charset of the overloads that take one (Utilities.Charset, a content
 * type's `charset=`) but not the default of the others, so with the limits model a string that
 * those would have to encode must be ASCII, where every charset agrees: code that signs or sends
 * other text must name its charset.
 */
export function requireAscii(data: unknown, what: string): void {
  if (typeof data === 'string' && /[\u0080-\uffff]/.test(data)) {
    throw new ScriptException(
      `${what}: the text is not ASCII and no charset was given; Google does not document which charset is used then (the local Apps Script runtime refuses to guess). Pass one, e.g. Utilities.Charset.UTF_8 or a content type with charset=utf-8.`,
    );
  }
}
