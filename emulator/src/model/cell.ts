/**
 * A cell as the model stores it. Cells are immutable: a write replaces the object, which lets a
 * transaction keep old rows by reference and lets readers hold a cell without copying it.
 */
export type CellValue = string | number | boolean;

/** The API's NumberFormat (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/cells#NumberFormat). */
export interface NumberFormat {
  type: 'TEXT' | 'NUMBER' | 'PERCENT' | 'CURRENCY' | 'DATE' | 'TIME' | 'DATE_TIME' | 'SCIENTIFIC';
  pattern?: string;
}

/** The API's CellFormat. Only numberFormat changes how values render; the rest is kept as given. */
export interface CellFormat {
  numberFormat?: NumberFormat;
  [member: string]: unknown;
}

/** The API's DataValidationRule (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#DataValidationRule). */
export interface DataValidationRule {
  condition: { type: string; values?: { userEnteredValue?: string; relativeDate?: string }[] };
  inputMessage?: string;
  /** "True if invalid data should be rejected." */
  strict?: boolean;
  /** "True if the UI should be customized based on the kind of condition. If true, "List" conditions will show a dropdown." */
  showCustomUi?: boolean;
}

export interface Cell {
  /** What the user or API entered, when it is not a formula. */
  readonly value?: CellValue;
  /** The formula text including its leading `=`; the value is then computed on read. */
  readonly formula?: string;
  readonly format?: CellFormat;
  readonly note?: string;
  /** Google keeps validation per cell (CellData.dataValidation); values written keep it. */
  readonly dataValidation?: DataValidationRule;
}

/** A formula's result: a value, or an error such as `#DIV/0!` rendered as its code. */
export type EffectiveValue = { value: CellValue } | { error: string; message: string } | undefined;

export function isEmptyCell(cell: Cell | undefined): boolean {
  return cell === undefined || (cell.value === undefined && cell.formula === undefined);
}
