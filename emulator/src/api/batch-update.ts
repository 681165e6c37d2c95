/** spreadsheets.batchUpdate (filled in below the skeleton). */
import { invalidArgument } from '../model/errors.ts';
import type { Emulator } from '../server.ts';

export function applyBatchUpdate(
  emulator: Emulator,
  spreadsheetId: string,
  body: Record<string, unknown>,
): unknown {
  emulator.model.get(spreadsheetId);
  throw invalidArgument(`batchUpdate is not implemented yet (${Object.keys(body).join(',')})`);
}
