/**
 * Utilities (https://developers.google.com/apps-script/reference/utilities/utilities): UUIDs,
 * HMAC and digests returning signed Byte[] like Java's, base64, sleep, formatDate.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { ScriptException } from '../host-call.ts';
import { isDate } from '../script-realm.ts';
import { requireAscii, toBuffer, toSignedBytes } from './bytes.ts';
import { formatDate } from './format-date.ts';

const DIGESTS: Record<string, string> = {
  MD2: 'md2',
  MD5: 'md5',
  SHA_1: 'sha1',
  SHA_256: 'sha256',
  SHA_384: 'sha384',
  SHA_512: 'sha512',
};

export interface UtilitiesOptions {
  /** Sleeps on the limits model's clock; by default the worker sleeps in real time. */
  sleep?: (ms: number) => void;
  /** Refuse non-ASCII text where no charset was given (bytes.ts requireAscii). */
  strictCharsets?: boolean;
}

export function createUtilities(toScript: (value: unknown) => unknown, options: UtilitiesOptions = {}) {
  const sleepCell = new Int32Array(new SharedArrayBuffer(4));
  const sleep =
    options.sleep ??
    ((ms: number) => {
      Atomics.wait(sleepCell, 0, 0, ms);
    });
  /** Bytes of a string or Byte[] argument, refusing a charset-less non-ASCII string when strict. */
  const bytesOf = (data: unknown, charset: string | undefined, what: string) => {
    if (options.strictCharsets && charset === undefined) requireAscii(data, what);
    return toBuffer(data, charset);
  };
  const hmac = (algorithm: string) => (value: unknown, key: unknown, charset?: string) =>
    toScript(
      toSignedBytes(
        createHmac(algorithm, bytesOf(key, charset, 'Utilities.computeHmacSignature'))
          .update(bytesOf(value, charset, 'Utilities.computeHmacSignature'))
          .digest(),
      ),
    );
  return {
    Charset: { US_ASCII: 'US_ASCII', UTF_8: 'UTF_8' },
    DigestAlgorithm: Object.fromEntries(Object.keys(DIGESTS).map((k) => [k, k])),
    MacAlgorithm: { HMAC_SHA_256: 'sha256', HMAC_SHA_1: 'sha1', HMAC_SHA_512: 'sha512', HMAC_MD5: 'md5' },
    getUuid: () => randomUUID(),
    computeHmacSha256Signature: hmac('sha256'),
    computeHmacSignature: (algorithm: string, value: unknown, key: unknown, charset?: string) =>
      hmac(String(algorithm))(value, key, charset),
    computeDigest: (algorithm: string, value: unknown, charset?: string) => {
      const name = DIGESTS[String(algorithm)];
      if (!name) throw new ScriptException(`Invalid argument: algorithm`);
      return toScript(
        toSignedBytes(
          createHash(name)
            .update(bytesOf(value, charset, 'Utilities.computeDigest'))
            .digest(),
        ),
      );
    },
    base64Encode: (data: unknown, charset?: string) =>
      bytesOf(data, charset, 'Utilities.base64Encode').toString('base64'),
    base64EncodeWebSafe: (data: unknown, charset?: string) =>
      bytesOf(data, charset, 'Utilities.base64EncodeWebSafe')
        .toString('base64')
        .replaceAll('+', '-')
        .replaceAll('/', '_'),
    base64Decode: (encoded: string) => toScript(toSignedBytes(Buffer.from(String(encoded), 'base64'))),
    base64DecodeWebSafe: (encoded: string) =>
      toScript(toSignedBytes(Buffer.from(String(encoded), 'base64url'))),
    newBlob: (data: unknown, contentType?: string, name?: string) =>
      createBlob(toBuffer(data), contentType ?? '', name ?? null, toScript),
    sleep: (milliseconds: number) => {
      const ms = Number(milliseconds);
      if (!(ms >= 0) || ms > 300_000) throw new ScriptException('Invalid argument: milliseconds');
      sleep(ms);
    },
    formatDate: (date: Date, timeZone: string, format: string) => {
      if (!isDate(date)) throw new ScriptException('Invalid argument: date');
      return formatDate(date.getTime(), String(timeZone), String(format));
    },
    jsonStringify: (value: unknown) => JSON.stringify(value),
    jsonParse: (text: string) => toScript(JSON.parse(text)),
  };
}

export function createBlob(
  bytes: Buffer,
  contentType: string,
  name: string | null,
  toScript: (value: unknown) => unknown,
) {
  let blobName = name;
  let blobType = contentType;
  const blob = {
    getBytes: () => toScript(toSignedBytes(bytes)),
    getDataAsString: (charset?: string) =>
      bytes.toString(charset && /^us-ascii$/i.test(charset) ? 'latin1' : 'utf8'),
    getContentType: () => blobType || null,
    setContentType: (type: string) => {
      blobType = type;
      return blob;
    },
    getName: () => blobName,
    setName: (value: string) => {
      blobName = value;
      return blob;
    },
    copyBlob: () => createBlob(Buffer.from(bytes), blobType, blobName, toScript),
  };
  return blob;
}
