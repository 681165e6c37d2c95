/**
 * A spreadsheet: its properties and its tabs, and the resolution of A1 strings against them.
 */
import { type GridRange, maxColumns, parseA1 } from './a1.ts';
import { invalidArgument, unparsableRange } from './errors.ts';
import { Sheet, type SheetProperties } from './sheet.ts';

/** https://support.google.com/drive/answer/37603: "Up to 10 million cells". */
export const maxCellsPerSpreadsheet = 10_000_000;

export interface SpreadsheetProperties {
  title: string;
  locale: string;
  timeZone: string;
  autoRecalc: string;
}

/** A range with both bounds of both dimensions fixed, inside one sheet. */
export interface BoundedRange {
  sheet: Sheet;
  startRowIndex: number;
  endRowIndex: number;
  startColumnIndex: number;
  endColumnIndex: number;
}

export class Spreadsheet {
  sheets: Sheet[] = [];
  nextProtectedRangeId = 1;
  /** The bound Apps Script's saved state (properties, triggers), owned by emulator/src/apps-script; opaque here. */
  appsScript: unknown;
  private savedSheets: Sheet[] | undefined;
  private savedProperties: SpreadsheetProperties | undefined;

  constructor(
    readonly spreadsheetId: string,
    public properties: SpreadsheetProperties,
  ) {}

  sheetById(sheetId: number): Sheet | undefined {
    return this.sheets.find((sheet) => sheet.sheetId === sheetId);
  }

  sheetByTitle(title: string): Sheet | undefined {
    // Google matches tab names case-insensitively in A1 ranges.
    const lower = title.toLowerCase();
    return this.sheets.find((sheet) => sheet.title.toLowerCase() === lower);
  }

  indexOf(sheet: Sheet): number {
    return this.sheets.indexOf(sheet);
  }

  totalCells(): number {
    let cells = 0;
    for (const sheet of this.sheets) cells += sheet.rowCount * sheet.columnCount;
    return cells;
  }

  /** Throws Google's error if growing the grid by `added` cells would pass the 10M cap. */
  checkCellLimit(added: number): void {
    if (added > 0 && this.totalCells() + added > maxCellsPerSpreadsheet) {
      throw invalidArgument(
        `This action would increase the number of cells in the workbook above the limit of ${maxCellsPerSpreadsheet} cells.`,
      );
    }
  }

  addSheet(properties: Partial<SheetProperties> & { title?: string }, index?: number): Sheet {
    const sheetId = properties.sheetId ?? this.freshSheetId();
    if (this.sheetById(sheetId)) {
      throw invalidArgument(`A sheet with the id ${sheetId} already exists. Please enter another id.`);
    }
    const title = properties.title ?? this.freshTitle();
    if (this.sheetByTitle(title)) {
      throw invalidArgument(`A sheet with the name "${title}" already exists. Please enter another name.`);
    }
    const rowCount = properties.rowCount ?? 1000;
    const columnCount = properties.columnCount ?? 26;
    if (rowCount < 1 || columnCount < 1 || columnCount > maxColumns) {
      throw invalidArgument(`Invalid grid size: ${rowCount} rows, ${columnCount} columns.`);
    }
    this.checkCellLimit(rowCount * columnCount);
    const sheet = new Sheet({ ...properties, sheetId, title, rowCount, columnCount });
    const at = index === undefined ? this.sheets.length : Math.min(Math.max(index, 0), this.sheets.length);
    this.sheets.splice(at, 0, sheet);
    return sheet;
  }

  deleteSheet(sheetId: number): void {
    const sheet = this.sheetById(sheetId);
    if (!sheet) throw invalidArgument(`No grid with id: ${sheetId}`);
    if (this.sheets.length === 1) throw invalidArgument("You can't remove all the sheets in a document.");
    this.sheets.splice(this.sheets.indexOf(sheet), 1);
  }

  /** Resolves an A1 string to a sheet and a GridRange (open bounds stay undefined). */
  resolveA1(text: string): { sheet: Sheet; range: GridRange } {
    const reference = parseA1(text);
    let sheet: Sheet | undefined;
    if (reference.sheetTitle !== undefined) sheet = this.sheetByTitle(reference.sheetTitle);
    else if (reference.bounds !== undefined) {
      // No tab named: the first visible sheet. A bare string that reads as a cell reference is
      // one, even when a tab has that name ("CRM26" is cell CRM26, as Google reads it).
      sheet = this.sheets.find((candidate) => !candidate.properties.hidden) ?? this.sheets[0];
    }
    if (!sheet) throw unparsableRange(text);
    return { sheet, range: { sheetId: sheet.sheetId, ...reference.bounds } };
  }

  /** Clips open bounds to the grid. */
  bound(sheet: Sheet, range: GridRange): BoundedRange {
    return {
      sheet,
      startRowIndex: range.startRowIndex ?? 0,
      endRowIndex: range.endRowIndex ?? sheet.rowCount,
      startColumnIndex: range.startColumnIndex ?? 0,
      endColumnIndex: range.endColumnIndex ?? sheet.columnCount,
    };
  }

  begin(): void {
    this.savedSheets = this.sheets.slice();
    this.savedProperties = structuredClone(this.properties);
    for (const sheet of this.sheets) sheet.begin();
  }

  commit(): void {
    for (const sheet of this.savedSheets ?? []) sheet.commit();
    for (const sheet of this.sheets) sheet.commit();
    this.savedSheets = undefined;
    this.savedProperties = undefined;
  }

  rollback(): void {
    if (!this.savedSheets || !this.savedProperties) return;
    for (const sheet of this.savedSheets) sheet.rollback();
    this.sheets = this.savedSheets;
    this.properties = this.savedProperties;
    this.savedSheets = undefined;
    this.savedProperties = undefined;
  }

  private freshSheetId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 2_000_000_000) + 1;
      if (!this.sheetById(id)) return id;
    }
  }

  private freshTitle(): string {
    for (let n = this.sheets.length + 1; ; n++) {
      if (!this.sheetByTitle(`Sheet${n}`)) return `Sheet${n}`;
    }
  }
}
