/**
 * What the SpreadsheetApp objects (spreadsheet-app.ts, range.ts, protection.ts) share of their
 * execution: the host to call and the run's context.
 */
import type { HostCall } from '../host-call.ts';

export interface SpreadsheetEnv {
  call: HostCall;
  spreadsheetId: string;
  /** The sheet a person is on: the edited sheet during an onEdit run. */
  activeSheetId: number | null;
  timeZone: string;
  /** A person is at the sheet (a menu or editor run), so SpreadsheetApp.getUi() has a UI to give. */
  hasUi: boolean;
  toScript(value: unknown): unknown;
  log(message: string): void;
}
