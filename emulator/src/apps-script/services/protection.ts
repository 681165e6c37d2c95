/**
 * Protection, returned by Range.protect() and Sheet.protect(). The protected range exists as
 * soon as protect() returns; each setter updates it, as each call does on Google.
 */
import type { GridBox } from '../protocol.ts';
import type { SpreadsheetEnv } from './spreadsheet-env.ts';

/** A Protection whose getRange() answers an `R` (a Range; generic so range.ts is not imported back). */
export type Protection<R> = ReturnType<typeof createProtection<R>>;

export function createProtection<R>(
  env: SpreadsheetEnv,
  target: GridBox | { sheetId: number },
  range: () => R,
) {
  const { protectedRangeId } = env.call('sheet.protect', env.spreadsheetId, target, '', false);
  let description = '';
  let warningOnly = false;
  let removed = false;
  const protection = {
    getProtectionType: () => ('row' in target ? 'RANGE' : 'SHEET'),
    getRange: range,
    getDescription: () => description,
    setDescription(text: string) {
      description = String(text);
      env.call('protection.update', env.spreadsheetId, protectedRangeId, { description });
      return protection;
    },
    isWarningOnly: () => warningOnly,
    setWarningOnly(flag: boolean) {
      warningOnly = Boolean(flag);
      env.call('protection.update', env.spreadsheetId, protectedRangeId, { warningOnly });
      return protection;
    },
    // Editors are not modelled: the emulator has one user, who owns every spreadsheet.
    getEditors: () => [],
    addEditor: () => protection,
    addEditors: () => protection,
    removeEditor: () => protection,
    removeEditors: () => protection,
    setDomainEdit: () => protection,
    canDomainEdit: () => false,
    canEdit: () => true,
    remove() {
      if (removed) return;
      removed = true;
      env.call('protection.remove', env.spreadsheetId, protectedRangeId);
    },
  };
  return protection;
}
