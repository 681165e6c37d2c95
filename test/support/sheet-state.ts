/**
 * Reads a tab's values straight from the local sheet's model, for tests that poll for the
 * outcome of a sync. The sync itself always goes through @googleapis/sheets and Google's quotas;
 * polling through the API would spend the quota the test is about.
 */
import { readValues } from '../../emulator/src/model/values.ts';
import type { Emulator } from '../../emulator/src/server.ts';

export function tabValues(
  emulator: Emulator,
  spreadsheetId: string,
  range: string,
  valueRenderOption: 'UNFORMATTED_VALUE' | 'FORMULA' | 'FORMATTED_VALUE' = 'UNFORMATTED_VALUE',
): unknown[][] {
  const spreadsheet = emulator.model.get(spreadsheetId);
  if (!spreadsheet) throw new Error(`no spreadsheet ${spreadsheetId}`);
  const { sheet, range: grid } = spreadsheet.resolveA1(range);
  return (readValues(spreadsheet, spreadsheet.bound(sheet, grid), { valueRenderOption }).values ??
    []) as unknown[][];
}
