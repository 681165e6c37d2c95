/**
 * Typed columns planned from a table's description (functions/src/core/column-formats.ts), and
 * the `CHECK (col IN (...))` lists read from pg_get_constraintdef's text.
 */
import { describe, expect, it } from 'vitest';
import { inListOf } from '../../functions/src/adapters/table/postgres-column-facts.ts';
import {
  type ColumnFacts,
  numberPattern,
  planColumnFormats,
} from '../../functions/src/core/column-formats.ts';

const columns: ColumnFacts[] = [
  { name: 'id', type: 'bigint', ownedBy: 'identity' },
  { name: 'active', type: 'boolean' },
  { name: 'plan', type: 'plan_kind', allowed: ['free', 'pro'] },
  { name: 'renews', type: 'date' },
  { name: 'seen', type: 'timestamp with time zone' },
  { name: 'price', type: 'numeric(10,2)' },
  { name: 'note', type: 'text' },
  { name: 'tags', type: 'text[]', isArray: true },
  { name: 'total', type: 'numeric', ownedBy: 'generated' },
];
const dataRows = (column: number) => ({
  sheetId: 7,
  startRowIndex: 1,
  startColumnIndex: column,
  endColumnIndex: column + 1,
});

describe('planColumnFormats', () => {
  it('plans a checkbox, a strict dropdown, dates, numbers and protections by header position', () => {
    const headers = [
      'id',
      'active',
      'plan',
      'renews',
      'seen',
      'price',
      'note',
      'tags',
      'total',
      '_sheetsync_id',
    ];
    const requests = planColumnFormats({ sheetId: 7, headers, columns });
    expect(requests).toEqual([
      {
        addProtectedRange: {
          protectedRange: {
            range: { sheetId: 7, startColumnIndex: 0, endColumnIndex: 1 },
            description: 'sheetsync: id is set by the database (identity); edits here do not reach the table',
            warningOnly: true,
          },
        },
      },
      {
        repeatCell: {
          range: dataRows(0),
          cell: { userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0' } } },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
      { setDataValidation: { range: dataRows(1), rule: { condition: { type: 'BOOLEAN' }, strict: true } } },
      {
        setDataValidation: {
          range: dataRows(2),
          rule: {
            condition: {
              type: 'ONE_OF_LIST',
              values: [{ userEnteredValue: 'free' }, { userEnteredValue: 'pro' }],
            },
            strict: true,
            showCustomUi: true,
          },
        },
      },
      {
        repeatCell: {
          range: dataRows(3),
          cell: { userEnteredFormat: { numberFormat: { type: 'DATE', pattern: 'yyyy-mm-dd' } } },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
      {
        repeatCell: {
          range: dataRows(4),
          cell: {
            userEnteredFormat: { numberFormat: { type: 'DATE_TIME', pattern: 'yyyy-mm-dd hh:mm:ss' } },
          },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
      {
        repeatCell: {
          range: dataRows(5),
          cell: { userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0.00' } } },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
      {
        addProtectedRange: {
          protectedRange: {
            range: { sheetId: 7, startColumnIndex: 8, endColumnIndex: 9 },
            description:
              'sheetsync: total is set by the database (generated); edits here do not reach the table',
            warningOnly: true,
          },
        },
      },
      {
        repeatCell: {
          range: dataRows(8),
          cell: { userEnteredFormat: { numberFormat: { type: 'NUMBER', pattern: '0.###############' } } },
          fields: 'userEnteredFormat.numberFormat',
        },
      },
    ]);
  });

  it('follows the headers where they are, matched loosely; unknown headers and text get nothing', () => {
    const requests = planColumnFormats({
      sheetId: 0,
      headers: ['Note', 'who knows', 'Active'],
      columns,
    });
    expect(requests).toEqual([
      {
        setDataValidation: {
          range: { sheetId: 0, startRowIndex: 1, startColumnIndex: 2, endColumnIndex: 3 },
          rule: { condition: { type: 'BOOLEAN' }, strict: true },
        },
      },
    ]);
  });

  it('does not protect a column a whole-column protection already covers (attach run again)', () => {
    const requests = planColumnFormats({
      sheetId: 0,
      headers: ['id'],
      columns,
      protectedColumns: new Set([0]),
    });
    expect(requests.map((r) => Object.keys(r)[0])).toEqual(['repeatCell']);
  });

  it('a CHECK list on a text column is a dropdown; on an integer column too, as text items', () => {
    const requests = planColumnFormats({
      sheetId: 0,
      headers: ['stars'],
      columns: [{ name: 'stars', type: 'integer', allowed: ['1', '2', '3'] }],
    });
    expect(requests).toEqual([
      {
        setDataValidation: {
          range: { sheetId: 0, startRowIndex: 1, startColumnIndex: 0, endColumnIndex: 1 },
          rule: {
            condition: {
              type: 'ONE_OF_LIST',
              values: [{ userEnteredValue: '1' }, { userEnteredValue: '2' }, { userEnteredValue: '3' }],
            },
            strict: true,
            showCustomUi: true,
          },
        },
      },
    ]);
  });
});

it('gives no dropdown to a list with a label a sheet would read as a formula', () => {
  const requests = planColumnFormats({
    sheetId: 0,
    headers: ['op'],
    columns: [{ name: 'op', type: 'op_kind', allowed: ['<', '=', '>'] }],
  });
  expect(requests).toEqual([]);
});

describe('numberPattern', () => {
  it.each([
    ['integer', '0'],
    ['bigint', '0'],
    ['numeric(12,3)', '0.000'],
    ['numeric(8,0)', '0'],
    ['numeric', '0.###############'],
    ['double precision', '0.###############'],
    ['text', undefined],
    ['integer[]', undefined],
  ])('%s → %s', (type, pattern) => {
    expect(numberPattern(type)).toBe(pattern);
  });
});

describe('inListOf (pg_get_constraintdef text)', () => {
  it('reads a text column IN list, quotes doubled inside items', () => {
    expect(
      inListOf("CHECK ((status = ANY (ARRAY['open'::text, 'won''t fix'::text, 'a, b'::text])))"),
    ).toEqual(['open', "won't fix", 'a, b']);
  });

  it('reads a varchar column IN list with its casts, and an integer one', () => {
    expect(
      inListOf(
        "CHECK (((kind)::text = ANY ((ARRAY['x'::character varying, 'y'::character varying])::text[])))",
      ),
    ).toEqual(['x', 'y']);
    expect(inListOf('CHECK ((stars = ANY (ARRAY[1, 2, 3])))')).toEqual(['1', '2', '3']);
  });

  it('gives nothing for any other CHECK', () => {
    expect(inListOf('CHECK ((price > (0)::numeric))')).toBeUndefined();
    expect(inListOf("CHECK (((status = ANY (ARRAY['a'::text])) OR (status IS NULL)))")).toBeUndefined();
    expect(inListOf("CHECK ((lower(status) = ANY (ARRAY['a'::text])))")).toBeUndefined();
  });
});
