/**
 * A custom conflict resolver that merges: both sides' text, the database's first, one per line
 * (for a `notes` column). Written in TypeScript: `npm start` runs it through tsx, and
 * `npm run package -- --config FILE` bundles it to JavaScript for the deployed functions.
 */
import type { ResolverConflict } from '../../functions/src/custom-resolver.ts';

export default function concatNotes(conflict: ResolverConflict): 'sheet' | 'db' | { value: string } {
  const db = conflict.db.value;
  const sheet = conflict.sheet.value;
  if (sheet === null || sheet === '') return 'db';
  if (db === null || db === '') return 'sheet';
  return { value: `${String(db)}\n${String(sheet)}` };
}
