/**
 * What applyToSheet tells people about a flush's SCHEMA changes (schema-changes.ts): headers
 * renamed (SHEETSYNC_E424), renames it cannot make (E425), retyped columns, and a dropped column
 * shown on the sheet, once in the errors tab (E423).
 */
import type { SheetProblem } from '../../adapters/sheets/errors-tab.ts';
import type { Logger } from '../../log.ts';
import type { SchemaShift } from './schema-changes.ts';

type Rename = { from: string; to: string };

/** Logs the headers a flush renames, those it cannot, and columns given another type. */
export function logSchema(
  logger: Logger,
  link: string,
  renames: readonly Rename[],
  clashes: readonly Rename[],
  retyped: ReadonlyMap<string, string>,
): void {
  for (const { from, to } of renames)
    logger.info(`a column of link ${link}'s table was renamed: header "${from}" becomes "${to}"`, {
      link,
      code: 'SHEETSYNC_E424',
    });
  for (const { from, to } of clashes)
    logger.warn(
      `a column of link ${link}'s table was renamed to "${to}", but the sheet already has a header "${to}": header "${from}" is left as it is and no longer syncs. Rename or delete one of the two headers`,
      { link, code: 'SHEETSYNC_E425' },
    );
  for (const [column, type] of retyped)
    logger.info(`column ${column} of link ${link}'s table is now of type ${type}`, { link });
}

/**
 * A dropped column shown on the sheet is reported once in the errors tab (the relay marks one
 * copy of the SCHEMA change for it) and logged. A failed report is logged, not retried: the
 * sheet is already right, and a retry would rename nothing and report again.
 */
export async function reportDropped(
  deps: { logger: Logger; reportProblems?: (problems: SheetProblem[]) => Promise<void> },
  link: string,
  dropped: SchemaShift['dropped'],
  headerOf: (column: string) => string | undefined,
): Promise<void> {
  const problems: SheetProblem[] = [];
  for (const { column, table } of dropped) {
    const header = headerOf(column);
    const message = `column ${column} was dropped from table ${table}: the sheet keeps its values, which no longer sync. Delete the column from the sheet, or add the column back to the table`;
    deps.logger.warn(message, { link, code: 'SHEETSYNC_E423' });
    if (header !== undefined)
      problems.push({ link, rowId: '', column: header, code: 'SHEETSYNC_E423', message });
  }
  if (problems.length === 0 || !deps.reportProblems) return;
  try {
    await deps.reportProblems(problems);
  } catch (error) {
    deps.logger.error(`could not report a dropped column to the sheet: ${(error as Error).message}`, {
      link,
      code: 'SHEETSYNC_E505',
    });
  }
}
