/**
 * Renaming a tab (updateSheetProperties `title`, or a person renaming it). Titles are unique
 * regardless of case, with Google's wording for a clash; formulas naming the tab follow it, as
 * they do in Sheets, so a rename never turns them into `#REF!`. The caller emits the
 * `sheetProperties` change.
 */
import { invalidArgument } from './errors.ts';
import { renameFormulaReferences } from './formula-references.ts';
import type { Sheet } from './sheet.ts';
import type { Spreadsheet } from './spreadsheet.ts';

/** Renames `sheet` to `title`, or throws INVALID_ARGUMENT when another tab has that title. */
export function renameSheet(spreadsheet: Spreadsheet, sheet: Sheet, title: string): void {
  const clash = spreadsheet.sheetByTitle(title);
  if (clash && clash !== sheet) {
    throw invalidArgument(`A sheet with the name "${title}" already exists. Please enter another name.`);
  }
  const before = sheet.title;
  if (before === title) return;
  sheet.properties.title = title;
  renameFormulaReferences(spreadsheet, before, title);
}
