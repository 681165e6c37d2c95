import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  coerceSheetCells,
  fromDb,
  fromSheet,
  isSheetPreviewOf,
  SHEET_CELL_MAX_CHARS,
  sheetPreview,
  tooLongForSheet,
  toSheet,
} from '../../functions/src/core/coercion.ts';
import { parseColumnType } from '../../functions/src/core/column-type.ts';

const t = parseColumnType;

describe('fromSheet', () => {
  it.each([
    ['integer', 42, 42],
    ['integer', ' -7 ', -7],
    ['smallint', '12', 12],
    ['bigint', '9007199254740993', '9007199254740993'],
    ['bigint', 12, '12'],
    ['numeric(12,2)', 1.5, '1.5'],
    ['numeric', '001.2300', '1.23'],
    ['numeric', '-0.000', '0'],
    ['numeric', '.5', '0.5'],
    ['double precision', '2.5', 2.5],
    ['text', 42, '42'],
    ['text', true, 'TRUE'],
    ['character varying(3)', 'abc', 'abc'],
    ['boolean', 'yes', true],
    ['boolean', 'FALSE', false],
    ['boolean', false, false],
    ['date', '2024-02-29', '2024-02-29'],
    ['date', '3/7/2024', '2024-03-07'],
    ['date', 45000, '2023-03-15'],
    ['timestamp with time zone', '2024-01-02T03:04:05.123456+01:00', '2024-01-02T02:04:05.123456Z'],
    ['timestamp with time zone', '2024-01-02 03:04', '2024-01-02T03:04:00Z'],
    ['timestamp without time zone', '2024-01-02T03:04:05.5', '2024-01-02T03:04:05.5'],
    ['jsonb', '{"a":[1,2]}', { a: [1, 2] }],
    ['json', 3, 3],
    ['uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    ['integer[]', '[1, 2, null]', [1, 2, null]],
    ['text[]', '{a,"b c",NULL}', ['a', 'b c', null]],
    ['bigint[][]', '[[1],[2]]', [['1'], ['2']]],
    ['integer', '', null],
    ['text', null, null],
  ] as const)('%s ← %j', (type, value, expected) => {
    expect(fromSheet(value, t(type))).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['integer', '4.5'],
    ['integer', 'ten'],
    ['integer', 2 ** 31],
    ['bigint', '9223372036854775808'],
    ['numeric', '1,5'],
    ['double precision', 'Infinity'],
    ['boolean', 'maybe'],
    ['date', '2023-02-29'],
    ['date', true],
    ['timestamp with time zone', '2024-13-01'],
    ['jsonb', '{a:1}'],
    ['uuid', 'not-a-uuid'],
    ['character varying(3)', 'abcd'],
    ['integer[]', '[1,"x"]'],
    ['integer[]', '1,2'],
  ] as const)('%s refuses %j with a message', (type, value) => {
    const result = fromSheet(value, t(type));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/\S/);
  });
});

describe('coerceSheetCells', () => {
  it('reports a bad cell and keeps the rest of the row', () => {
    const types = { id: t('integer'), name: t('text'), born: t('date') };
    const result = coerceSheetCells({ id: 'x1', name: 'Ada', born: '1815-12-10', shoe: 9 }, types);
    expect(result.cells).toEqual({ name: 'Ada', born: '1815-12-10' });
    expect(result.errors.map((e) => [e.column, e.type])).toEqual([
      ['id', 'integer'],
      ['shoe', 'unknown'],
    ]);
  });
});

describe('toSheet', () => {
  it.each([
    ['integer', 3, 3],
    ['bigint', '12', 12],
    ['bigint', '9007199254740993', '9007199254740993'],
    ['numeric', '1.25', 1.25],
    ['numeric', '0.1000000000000000000001', '0.1000000000000000000001'],
    ['boolean', true, true],
    ['date', '2024-01-02', '2024-01-02'],
    ['jsonb', { a: 1 }, '{"a":1}'],
    ['jsonb', 'text', '"text"'],
    ['text[]', ['a', null], '["a",null]'],
    ['text', null, ''],
  ] as const)('%s %j → %j', (type, value, expected) => {
    expect(toSheet(value as never, t(type))).toEqual(expected);
  });
});

describe('fromDb', () => {
  it('brings the outbox forms to the canonical ones', () => {
    expect(fromDb('1.50', t('numeric(12,2)'))).toEqual({ ok: true, value: '1.5' });
    expect(fromDb('2024-01-02T03:04:05.1+02:00', t('timestamp with time zone'))).toEqual({
      ok: true,
      value: '2024-01-02T01:04:05.1Z',
    });
    expect(fromDb(['1', '2'], t('bigint[]'))).toEqual({ ok: true, value: ['1', '2'] });
    expect(fromDb({ a: [1] }, t('jsonb'))).toEqual({ ok: true, value: { a: [1] } });
  });
});

describe('round trip: a canonical value shown on the sheet reads back as itself', () => {
  const canonical = {
    integer: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    bigint: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    numeric: fc
      .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 12 }))
      .map(([digits, scale]) =>
        fromSheet(`${digits}e`.replace('e', '') + (scale ? `.${'0'.repeat(scale)}1` : ''), t('numeric')),
      )
      .map((r) => (r.ok ? r.value : '0')),
    'double precision': fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((n) => (Object.is(n, -0) ? 0 : n)),
    text: fc.string({ minLength: 1 }).filter((s) => s.trim() === s && s !== ''),
    boolean: fc.boolean(),
    date: fc
      .date({ min: new Date('1900-01-01'), max: new Date('2999-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
    'timestamp with time zone': fc
      .tuple(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
      )
      .map(([d, micros]) =>
        fromSheet(d.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`), t('timestamptz')),
      )
      .map((r) => (r.ok ? r.value : null)),
    jsonb: fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v))),
    uuid: fc.uuid(),
    'integer[]': fc.array(fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null })),
  };
  for (const [type, arbitrary] of Object.entries(canonical)) {
    it(type, () => {
      fc.assert(
        fc.property(arbitrary as fc.Arbitrary<never>, (value) => {
          const column = t(type);
          expect(fromSheet(toSheet(value, column), column)).toEqual({ ok: true, value });
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('values too long for a sheet cell (Google: 50,000 characters)', () => {
  const text = (n: number) => 'abcdefghij'.repeat(Math.ceil(n / 10)).slice(0, n);

  it('are shown as their start and a note, exactly at the limit; shorter ones as they are', () => {
    expect(toSheet(text(50_000), t('text'))).toBe(text(50_000));
    const shown = toSheet(text(60_001), t('text')) as string;
    expect(shown).toHaveLength(SHEET_CELL_MAX_CHARS);
    expect(shown.startsWith(text(49_000))).toBe(true);
    expect(shown).toMatch(/… \[sheetsync: 60,001 characters in the database, .*replaces them all\]$/);
    expect(tooLongForSheet(text(60_001), t('text'))).toBe(true);
    expect(tooLongForSheet(text(50_000), t('text'))).toBe(false);
    expect(tooLongForSheet(null, t('text'))).toBe(false);
  });

  it('never cut a character in half (a surrogate pair at the cut)', () => {
    const note = sheetPreview(text(60_000)).length - sheetPreview(text(60_000)).indexOf('… [sheetsync');
    const cut = SHEET_CELL_MAX_CHARS - note;
    const emoji = `${text(cut - 1)}😀${text(20_000)}`; // the pair spans the cut
    const shown = sheetPreview(emoji);
    expect(shown.length).toBeLessThanOrEqual(SHEET_CELL_MAX_CHARS);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(shown)).toBe(false); // no lone high surrogate
    expect(shown.startsWith(text(cut - 1))).toBe(true);
    expect(shown[cut - 1]).toBe('…');
  });

  it('json, arrays and text are previewed in their sheet form; the preview is recognised only for its own value', () => {
    const doc = { items: Array.from({ length: 5_000 }, (_, i) => ({ i, s: 'words' })) };
    const shown = toSheet(doc, t('jsonb'));
    expect(shown).toBe(sheetPreview(JSON.stringify(doc)));
    expect(isSheetPreviewOf(shown, doc, t('jsonb'))).toBe(true);
    expect(isSheetPreviewOf(shown, { ...doc, more: 1 }, t('jsonb'))).toBe(false);
    const long = text(70_000);
    expect(isSheetPreviewOf(toSheet(long, t('text')), long, t('text'))).toBe(true);
    expect(isSheetPreviewOf(toSheet(long, t('text')), `${long}x`, t('text'))).toBe(false);
    expect(isSheetPreviewOf(text(49_999), text(49_999), t('text'))).toBe(false);
    expect(isSheetPreviewOf(toSheet(long, t('text')), null, t('text'))).toBe(false);
    expect(isSheetPreviewOf(42, long, t('text'))).toBe(false);
    // A value ending like the note but typed by a person is taken as it is.
    expect(fromSheet(toSheet(long, t('text')), t('text'))).toEqual({
      ok: true,
      value: toSheet(long, t('text')),
    });
  });
});
