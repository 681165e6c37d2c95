/**
 * Request bodies. Google's front end refuses bodies over 10 MiB with
 * `Request payload size exceeds the limit: 10485760 bytes.` and malformed JSON with
 * `Invalid JSON payload received. ...`, both 400 INVALID_ARGUMENT.
 */
import type { IncomingMessage } from 'node:http';
import { invalidArgument } from '../model/errors.ts';

export const maxBodyBytes = 10 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining so the client sees our answer instead of a reset connection.
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  if (tooLarge) throw invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
  return Buffer.concat(chunks);
}

export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidArgument(`Invalid JSON payload received. ${reason}`);
  }
}
