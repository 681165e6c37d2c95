/**
 * The emulator's model without HTTP: A1 parsing, the user-input parser, formulas, transactions,
 * change events and quota windows. The HTTP contract is in test/integration/emulator-*.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnIndex, columnLetters, formatA1, parseA1 } from '../../emulator/src/model/a1.ts';
import { SheetsApiError } from '../../emulator/src/model/errors.ts';
import { deleteDimension, insertDimension, sortRange, writeA1 } from '../../emulator/src/model/operations.ts';
import { type ChangeEvent, SpreadsheetStore } from '../../emulator/src/model/store.ts';
import { parseUserEntered } from '../../emulator/src/model/user-input.ts';
import { readValues } from '../../emulator/src/model/values.ts';
import { QuotaLimiter } from '../../emulator/src/quotas.ts';

describe('A1 notation', () => {
  it('column letters and indexes are inverse', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 18_277 }), (i) => columnIndex(columnLetters(i)) === i));
    expect(columnLetters(25)).toBe('Z');
    expect(columnLetters(26)).toBe('AA');
    expect(columnLetters(18_277)).toBe('ZZZ');
  });

  it('formatted bounded ranges parse back to the same bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 700 }),
        fc.integer({ min: 1, max: 30 }),
        fc.string({ minLength: 1, maxLength: 12 }),
        (row, height, column, width, title) => {
          const bounds = {
            startRowIndex: row,
            endRowIndex: row + height,
            startColumnIndex: column,
            endColumnIndex: column + width,
          };
          expect(parseA1(formatA1(title, bounds))).toEqual({ sheetTitle: title, bounds });
        },
      ),
    );
  });

  it('open ranges leave the open side undefined', () => {
    expect(parseA1('S!A:C').bounds).toEqual({ startRowIndex: 0, startColumnIndex: 0, endColumnIndex: 3 });
    expect(parseA1('S!A2:Z').bounds).toEqual({ startRowIndex: 1, startColumnIndex: 0, endColumnIndex: 26 });
    expect(parseA1('S!2:5').bounds).toEqual({ startRowIndex: 1, endRowIndex: 5, startColumnIndex: 0 });
    expect(parseA1("'It''s'").sheetTitle).toBe("It's");
  });

  it.each(['S!A', 'S!5', 'S!A:5', "'x", 'S!A1:B2:C3', ''])('%j is not a range', (text) => {
    expect(() => parseA1(text)).toThrow(SheetsApiError);
  });
});

describe('parseUserEntered', () => {
  it.each([
    ['42', { value: 42 }],
    ['-1.5e3', { value: -1500, format: { numberFormat: { type: 'SCIENTIFIC', pattern: '0.00E+00' } } }],
    ['TRUE', { value: true }],
    ["'=not a formula", { value: '=not a formula' }],
    ['=SUM(A1:A2)', { formula: '=SUM(A1:A2)' }],
    ['12/25/2024', { value: 45651, format: { numberFormat: { type: 'DATE', pattern: 'M/d/yyyy' } } }],
    ['2024-02-30', { value: '2024-02-30' }],
    ['$1,000.50', { value: 1000.5, format: { numberFormat: { type: 'CURRENCY', pattern: '"$"#,##0.00' } } }],
    ['hello', { value: 'hello' }],
  ])('%j', (input, cell) => {
    expect(parseUserEntered(input)).toEqual(cell);
  });

  it('an empty entry clears the cell', () => {
    expect(parseUserEntered('')).toBeUndefined();
  });
});

describe('store.mutate', () => {
  it('emits events tagged with the source, after the change, with old and new value for one cell', () => {
    const store = new SpreadsheetStore();
    const { spreadsheetId } = store.create();
    const events: ChangeEvent[] = [];
    store.onChange((event) => events.push(event));
    store.mutate(spreadsheetId, 'user', (s, emit) =>
      writeA1(s, emit, 'A1', [['1']], { valueInputOption: 'USER_ENTERED' }),
    );
    store.mutate(spreadsheetId, 'api', (s, emit) =>
      writeA1(s, emit, 'A1', [['=A2+5']], { valueInputOption: 'USER_ENTERED' }),
    );
    expect(events).toEqual([
      expect.objectContaining({
        source: 'user',
        kind: 'values',
        sheetId: 0,
        newValue: 1,
        oldValue: undefined,
      }),
      expect.objectContaining({ source: 'api', kind: 'values', oldValue: 1, newValue: 5 }),
    ]);
  });

  it('rolls back every change of a failed operation and emits nothing', () => {
    const store = new SpreadsheetStore();
    const spreadsheet = store.create({ sheets: [{ title: 'S', rowCount: 10, columnCount: 3 }] });
    const id = spreadsheet.spreadsheetId;
    store.mutate(id, 'api', (s, emit) =>
      writeA1(s, emit, 'S!A1', [['a'], ['b'], ['c']], { valueInputOption: 'RAW' }),
    );
    const events: ChangeEvent[] = [];
    store.onChange((event) => events.push(event));
    expect(() =>
      store.mutate(id, 'api', (s, emit) => {
        writeA1(s, emit, 'S!A1', [['changed']], { valueInputOption: 'RAW' });
        insertDimension(s, emit, {
          sheetId: s.sheets[0]?.sheetId ?? 0,
          dimension: 'ROWS',
          startIndex: 0,
          endIndex: 2,
        });
        deleteDimension(s, emit, { sheetId: 12345, dimension: 'ROWS', startIndex: 0, endIndex: 1 });
      }),
    ).toThrow('No grid with id: 12345');
    const sheet = spreadsheet.sheets[0];
    if (!sheet) throw new Error('no sheet');
    expect(sheet.rowCount).toBe(10);
    expect(readValues(spreadsheet, spreadsheet.bound(sheet, { sheetId: sheet.sheetId })).values).toEqual([
      ['a'],
      ['b'],
      ['c'],
    ]);
    expect(events).toEqual([]);
  });
});

describe('formulas', () => {
  it('evaluate arithmetic, text, comparisons and aggregates over ranges and other tabs', () => {
    const store = new SpreadsheetStore();
    const spreadsheet = store.create({ sheets: [{ title: 'S' }, { title: 'Other tab' }] });
    const id = spreadsheet.spreadsheetId;
    store.mutate(id, 'api', (s, emit) => {
      writeA1(s, emit, "'Other tab'!A1", [['10']], { valueInputOption: 'USER_ENTERED' });
      writeA1(
        s,
        emit,
        'S!A1',
        [
          [
            '2',
            '3',
            '=A1^B1-1',
            '="n="&C1',
            "=SUM(A1:C1,'Other tab'!A1)",
            '=IF(A1>B1,"gt","le")',
            '=1/0',
            '=A1+F1',
          ],
        ],
        { valueInputOption: 'USER_ENTERED' },
      );
    });
    const sheet = spreadsheet.sheets[0];
    if (!sheet) throw new Error('no sheet');
    expect(
      readValues(spreadsheet, spreadsheet.bound(sheet, { sheetId: sheet.sheetId }), {
        valueRenderOption: 'UNFORMATTED_VALUE',
      }).values,
    ).toEqual([[2, 3, 7, 'n=7', 22, 'le', '#DIV/0!', '#VALUE!']]);
  });
});

describe('QuotaLimiter', () => {
  it('counts per user and per project in a fixed window that refills at the boundary', () => {
    let now = 120_000;
    const limiter = new QuotaLimiter({ writePerUser: 2, writePerProject: 3 }, () => now);
    limiter.take('write', 'a');
    limiter.take('write', 'a');
    expect(() => limiter.take('write', 'a')).toThrow("limit 'Write requests per minute per user'");
    limiter.take('write', 'b');
    expect(() => limiter.take('write', 'c')).toThrow("limit 'Write requests per minute'");
    limiter.take('read', 'a');
    now = 179_999;
    expect(() => limiter.take('write', 'a')).toThrow(SheetsApiError);
    now = 180_000;
    limiter.take('write', 'a');
  });

  it('counts each quota project apart (X-Goog-User-Project names it)', () => {
    const limiter = new QuotaLimiter({ readPerUser: 5, readPerProject: 2 }, () => 0);
    limiter.take('read', 'a');
    limiter.take('read', 'b');
    expect(() => limiter.take('read', 'c')).toThrow("limit 'Read requests per minute'");
    limiter.take('read', 'a', 'observer');
    limiter.take('read', 'a', 'observer');
    expect(() => limiter.take('read', 'a', 'observer')).toThrow("limit 'Read requests per minute'");
  });
});

describe('formula references follow inserted and deleted rows and columns', () => {
  const setup = () => {
    const store = new SpreadsheetStore();
    const spreadsheet = store.create({
      sheets: [{ title: 'S', rowCount: 20, columnCount: 10 }, { title: 'My tab' }],
    });
    const id = spreadsheet.spreadsheetId;
    const sheetId = spreadsheet.sheets[0]?.sheetId ?? 0;
    store.mutate(id, 'api', (s, emit) => {
      writeA1(s, emit, 'S!A1:A5', [['1'], ['2'], ['3'], ['4'], ['5']], { valueInputOption: 'USER_ENTERED' });
      writeA1(
        s,
        emit,
        "'My tab'!A1",
        [['=S!A3', '=SUM(S!$A$2:A4)', '="A3"&S!A3', "='My tab'!B1", '=S!A2:A2', '=S!A:A']],
        { valueInputOption: 'USER_ENTERED' },
      );
    });
    const formulas = () =>
      readValues(
        spreadsheet,
        spreadsheet.bound(spreadsheet.sheets[1]!, { sheetId: spreadsheet.sheets[1]!.sheetId }),
        {
          valueRenderOption: 'FORMULA',
        },
      ).values?.[0];
    return { store, id, sheetId, formulas };
  };

  it('rows inserted above move references down, absolute or not; literals and other tabs stay', () => {
    const { store, id, sheetId, formulas } = setup();
    store.mutate(id, 'user', (s, emit) =>
      insertDimension(s, emit, { sheetId, dimension: 'ROWS', startIndex: 1, endIndex: 3 }),
    );
    expect(formulas()).toEqual([
      '=S!A5',
      '=SUM(S!$A$4:A6)',
      '="A3"&S!A5',
      "='My tab'!B1",
      '=S!A4:A4',
      '=S!A:A',
    ]);
  });

  it('deleted rows shrink ranges, and a reference to a deleted cell becomes #REF!', () => {
    const { store, id, sheetId, formulas } = setup();
    store.mutate(id, 'user', (s, emit) =>
      deleteDimension(s, emit, { sheetId, dimension: 'ROWS', startIndex: 1, endIndex: 3 }),
    );
    expect(formulas()).toEqual([
      '=#REF!',
      '=SUM(S!$A$2:A2)',
      '="A3"&#REF!',
      "='My tab'!B1",
      '=#REF!',
      '=S!A:A',
    ]);
    const sheet = store.get(id).sheets[1]!;
    expect(
      readValues(store.get(id), store.get(id).bound(sheet, { sheetId: sheet.sheetId })).values?.[0]?.slice(
        0,
        2,
      ),
    ).toEqual([
      '#REF!',
      '4', // A2 now holds the 4 that was in A4
    ]);
  });

  it('columns inserted before a reference move it right', () => {
    const { store, id, sheetId, formulas } = setup();
    store.mutate(id, 'user', (s, emit) =>
      insertDimension(s, emit, { sheetId, dimension: 'COLUMNS', startIndex: 0, endIndex: 1 }),
    );
    expect(formulas()?.slice(0, 2)).toEqual(['=S!B3', '=SUM(S!$B$2:B4)']);
  });
});

describe('sortRange over whole rows', () => {
  it('moves every cell of a row together, keeps the header, and rolls back with the transaction', () => {
    const store = new SpreadsheetStore();
    const spreadsheet = store.create({ sheets: [{ title: 'S', rowCount: 10, columnCount: 3 }] });
    const id = spreadsheet.spreadsheetId;
    const sheet = spreadsheet.sheets[0]!;
    store.mutate(id, 'api', (s, emit) =>
      writeA1(
        s,
        emit,
        'S!A1',
        [
          ['name', 'n'],
          ['bob', '2'],
          ['Ada', '10'],
          ['', '0'],
          ['carl', '1'],
        ],
        {
          valueInputOption: 'USER_ENTERED',
        },
      ),
    );
    const read = () => readValues(spreadsheet, spreadsheet.bound(sheet, { sheetId: sheet.sheetId })).values;
    store.mutate(id, 'user', (s, emit) =>
      sortRange(s, emit, { sheetId: sheet.sheetId, startRowIndex: 1 }, [{ dimensionIndex: 0 }]),
    );
    expect(read()).toEqual([
      ['name', 'n'],
      ['Ada', '10'],
      ['bob', '2'],
      ['carl', '1'],
      ['', '0'],
    ]);
    expect(() =>
      store.mutate(id, 'user', (s, emit) => {
        sortRange(s, emit, { sheetId: sheet.sheetId, startRowIndex: 1 }, [
          { dimensionIndex: 1, sortOrder: 'DESCENDING' },
        ]);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(read()).toEqual([
      ['name', 'n'],
      ['Ada', '10'],
      ['bob', '2'],
      ['carl', '1'],
      ['', '0'],
    ]);
  });
});
