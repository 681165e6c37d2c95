/**
 * `addMissingColumns` (issue 19, item 3; opt-in per link, since a schema change from a sheet
 * must be the operator's choice): a header the table lacks becomes a table column, typed from the
 * values typed under it. Pure: which columns to add and which headers cannot be column names.
 *
 * Only a quoted identifier built from the header ever reaches SQL, and only a header that
 * matches SAFE_COLUMN_NAME (letters, digits, underscores; not sheetsync's own prefix; at most
 * PostgreSQL's 63 bytes, so it is never truncated into another name). The type is one of a
 * fixed list, never text from the sheet.
 */
import type { SheetValue } from '../../adapters/sheets/sheet-tab.ts';
import type { RowProblem } from './types.ts';

/** A header that may become a column name as it is. */
export const SAFE_COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export type AddedColumnType = 'text' | 'numeric' | 'boolean';

export interface AddedColumn {
  name: string;
  type: AddedColumnType;
}

export interface MissingColumnsPlan {
  add: AddedColumn[];
  /** Headers that cannot be column names (reported, SHEETSYNC_E426). */
  refused: string[];
}

/**
 * The columns to add for `headers` (the ones the table lacks), from the cells typed under them
 * in `changes`: all numbers → numeric, all true/false → boolean, anything else (or nothing but
 * blanks) → text.
 */
export function planMissingColumns(
  headers: readonly string[],
  changes: ReadonlyArray<{ cells: Record<string, SheetValue> }>,
): MissingColumnsPlan {
  const plan: MissingColumnsPlan = { add: [], refused: [] };
  for (const header of new Set(headers)) {
    if (!SAFE_COLUMN_NAME.test(header) || header.toLowerCase().startsWith('_sheetsync')) {
      plan.refused.push(header);
      continue;
    }
    const values = changes
      .map((c) => c.cells[header])
      .filter(
        (value): value is Exclude<SheetValue, null> => value !== undefined && value !== null && value !== '',
      );
    plan.add.push({ name: header, type: suggestedType(values) });
  }
  return plan;
}

function suggestedType(values: readonly Exclude<SheetValue, null>[]): AddedColumnType {
  if (values.length === 0) return 'text';
  if (values.every((value) => typeof value === 'number' && Number.isFinite(value))) return 'numeric';
  if (values.every((value) => typeof value === 'boolean')) return 'boolean';
  return 'text';
}

/** An unknown header that cannot be a column name is reported as such (E426), not as E408. */
export function refuseColumnNames(decoded: ReadonlyArray<{ problems: RowProblem[] }>): void {
  for (const item of decoded) {
    item.problems = item.problems.map((p) => {
      if (p.code !== 'SHEETSYNC_E408' || p.column === undefined) return p;
      if (planMissingColumns([p.column], []).refused.length === 0) return p;
      return {
        ...p,
        code: 'SHEETSYNC_E426',
        message: `header "${p.column}" cannot become a table column (links[].addMissingColumns): a column name here is letters, digits and underscores, starting with a letter or underscore, at most 63 characters, and not starting with _sheetsync. Rename the header`,
      };
    });
  }
}
