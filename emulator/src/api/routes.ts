/** Mounts the Sheets API v4 subset. */
import type { Emulator } from '../emulator.ts';
import { mountSpreadsheetsRoutes } from './spreadsheets-routes.ts';
import { mountValuesRoutes } from './values-routes.ts';

export function mountSheetsApi(emulator: Emulator): void {
  // Values routes first: their patterns are more specific than `/v4/spreadsheets/{id}`.
  mountValuesRoutes(emulator);
  mountSpreadsheetsRoutes(emulator);
}
