/**
 * The webhook refuses before anything parses its body. functions-framework 5 (server.js) puts
 * body-parser in front of every function, with a fixed 1 GB limit: an `application/json` body is
 * read whole and JSON-parsed before the function runs, and a body it cannot parse goes to
 * Express's default error handler, an HTML page (with a stack trace unless NODE_ENV is
 * `production`). No registration option turns that off.
 *
 * So the gate sits in front of the framework's server: it reads the raw body itself, refuses
 * (JSON, with a code) what is not a POST of `application/json`, what is over the size limit
 * (without reading it when Content-Length says so) and what the HMAC signature does not cover,
 * and only then hands the request on with `req.rawBody` set. body-parser skips a request whose
 * body was read already (`on-finished`'s isFinished), so nothing parses it before the handler
 * does, and the handler's own 400 for malformed JSON is the answer.
 *
 * The gate is put in front of the server functions-framework makes next, when it is to serve the
 * webhook (`--target`, else FUNCTION_TARGET, as functions-framework itself reads them: Cloud
 * Run's buildpack sets FUNCTION_TARGET). test/integration/webhook-raw-body.test.ts drives it
 * through the framework's real server, so a framework that stops using http.createServer fails
 * it.
 */

import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { ErrorCode } from '../../error-codes.ts';
import type { Logger } from '../../log.ts';
import { DEFAULT_MAX_BODY_BYTES } from './handler.ts';
import {
  SIGNATURE_HEADER,
  SPREADSHEET_HEADER,
  TIMESTAMP_HEADER,
  verifySpreadsheetSignature,
} from './signature.ts';

export interface WebhookGateOptions {
  /**
   * The webhook's secrets, from which each spreadsheet's is derived (signature.ts); read per
   * request, so a bad configuration fails as a 500.
   */
  secrets(): readonly string[];
  /** The secret version of a spreadsheet (its links' `secretVersion`). Default 1. */
  secretVersion?(spreadsheetId: string): number;
  logger: Logger;
  maxBodyBytes?: number;
  now?: () => number;
}

/** The error body every refusal answers: the shape the handler's answers have. */
export interface GateRefusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/**
 * Reads and checks one request. Resolves `undefined` when it may go on (its `rawBody` set), or
 * the refusal, which it has already answered.
 */
export type WebhookGate = (req: IncomingMessage, res: ServerResponse) => Promise<GateRefusal | undefined>;

export function webhookGate(options: WebhookGateOptions): WebhookGate {
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = options.now ?? Date.now;
  return async (req, res) => {
    const refusal = await check(req);
    if (refusal) {
      options.logger.warn(`webhook rejected a request: ${refusal.message}`, {
        code: refusal.code,
        status: refusal.status,
      });
      answer(res, refusal);
    }
    return refusal;
  };

  async function check(req: IncomingMessage): Promise<GateRefusal | undefined> {
    if (req.method !== 'POST') return refuse(405, 'SHEETSYNC_E601', 'only POST is accepted');
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity')
      return refuse(
        415,
        'SHEETSYNC_E620',
        `Content-Encoding ${encoding} is not accepted; send the body as is`,
      );
    const type = mediaType(req.headers['content-type']);
    if (type.mediaType !== 'application/json' || (type.charset !== undefined && type.charset !== 'utf-8'))
      return refuse(
        415,
        'SHEETSYNC_E621',
        `Content-Type must be application/json (UTF-8), not ${JSON.stringify(req.headers['content-type'] ?? '(none)')}`,
      );
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > maxBytes) return tooLarge(declared);
    let raw: Buffer;
    try {
      const read = await readLimited(req, maxBytes);
      if (read === 'too large') return tooLarge(undefined);
      raw = read;
    } catch (error) {
      return refuse(400, 'SHEETSYNC_E622', `the body could not be read: ${(error as Error).message}`);
    }
    const verified = verifySpreadsheetSignature(
      options.secrets(),
      (id) => options.secretVersion?.(id) ?? 1,
      {
        spreadsheet: header(req, SPREADSHEET_HEADER),
        timestamp: header(req, TIMESTAMP_HEADER),
        signature: header(req, SIGNATURE_HEADER),
      },
      raw,
      now(),
    );
    if (!verified.ok) return refuse(401, 'SHEETSYNC_E603', verified.message);
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
    return undefined;
  }

  function tooLarge(bytes: number | undefined): GateRefusal {
    return refuse(
      413,
      'SHEETSYNC_E602',
      `the body is ${bytes === undefined ? 'over the limit' : `${bytes} bytes`}; the limit is ${maxBytes}`,
    );
  }
}

function refuse(status: number, code: GateRefusal['code'], message: string): GateRefusal {
  return { status, code, message };
}

/** Answers a refusal as the handler answers: `{error: {code, message}}`. */
export function answer(res: ServerResponse, refusal: GateRefusal): void {
  const body = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
  res.writeHead(refusal.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The body, or 'too large' as soon as it passes `limit`: the rest keeps flowing, unkept, while the
 * refusal is answered (a destroyed request would reset the connection before the client reads it).
 */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      req.on('data', () => {});
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop();
      resolve('too large');
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => onError(new Error('the request ended before its body did'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function mediaType(header: string | undefined): { mediaType: string; charset?: string } {
  const [type = '', ...parameters] = (header ?? '').split(';');
  const charset = parameters
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  return { mediaType: type.trim().toLowerCase(), ...(charset === undefined ? {} : { charset }) };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The function functions-framework serves in this process: `--target` on its command line, else
 * FUNCTION_TARGET (functions-framework's options.js reads them in this order).
 */
export function servedTarget(argv: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  for (const [i, arg] of argv.entries()) {
    if (arg.startsWith('--target=')) return arg.slice('--target='.length);
    if (arg === '--target' && argv[i + 1] !== undefined) return argv[i + 1];
  }
  return env.FUNCTION_TARGET;
}

/**
 * When this process serves `target`, puts `gate` in front of the next HTTP server made with an
 * Express app as its listener: functions-framework's (getServer calls http.createServer(app)
 * once, after loading the functions). Requests the gate lets through go to the app; if the gate
 * itself fails, the answer is a 500 with `failureCode`.
 */
export function gateFrameworkServer(
  target: string,
  gate: WebhookGate,
  options: {
    failureCode: GateRefusal['code'];
    logger: Logger;
    argv?: readonly string[];
    env?: Readonly<Record<string, string | undefined>>;
  },
): void {
  if (servedTarget(options.argv ?? process.argv, options.env ?? process.env) !== target) return;
  const createServer = http.createServer;
  const gated = (...args: unknown[]): http.Server => {
    const index = args.findIndex((arg) => typeof arg === 'function');
    const app = args[index] as (RequestListener & { handle?: unknown; set?: unknown }) | undefined;
    if (!app || typeof app.handle !== 'function' || typeof app.set !== 'function')
      return (createServer as (...a: unknown[]) => http.Server)(...args);
    http.createServer = createServer;
    args[index] = gatedListener(gate, app, options);
    return (createServer as (...a: unknown[]) => http.Server)(...args);
  };
  http.createServer = gated as typeof http.createServer;
}

/**
 * Puts `gate` in front of a server made already (the local stack's, from functions-framework's
 * getTestServer): its request listeners see only the requests the gate lets through.
 */
export function gateServer(
  server: http.Server,
  gate: WebhookGate,
  options: { failureCode: GateRefusal['code']; logger: Logger },
): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const app: RequestListener = (req, res) => {
    for (const listener of listeners) listener.call(server, req, res);
  };
  server.on('request', gatedListener(gate, app, options));
}

/** `app`, for the requests `gate` lets through; a failing gate answers 500 with `failureCode`. */
function gatedListener(
  gate: WebhookGate,
  app: RequestListener,
  options: { failureCode: GateRefusal['code']; logger: Logger },
): RequestListener {
  return (req, res) => {
    gate(req, res).then(
      (refused) => {
        if (!refused) app(req, res);
      },
      (error: Error) => {
        options.logger.error(`webhook could not check a request: ${error.message}`, {
          code: options.failureCode,
        });
        if (!res.headersSent)
          answer(res, {
            status: 500,
            code: options.failureCode,
            message: 'the webhook cannot check requests now; retry later',
          });
        else res.destroy();
      },
    );
  };
}
