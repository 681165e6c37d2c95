/**
 * A custom conflict resolver (docs/design/custom-resolvers.md): when a cell was changed on the
 * sheet and in the database concurrently, keep the larger number, e.g. for a `score` column:
 *
 *   "conflict": {"policy": "last-writer-wins", "columns": {"score": "custom"},
 *                "resolver": "examples/resolvers/keep-larger.js"}
 *
 * `conflict` is { link, rowId, column, sheet: {value, dot, time}, db: {value, dot, time} }, each
 * value in the column's canonical form (numbers for integer and double columns, decimal strings
 * for numeric and bigint). Answer 'sheet', 'db' or { value }. Deterministic: it decides from the
 * two values alone, so a redelivered change is decided the same way.
 */
export default function keepLarger(conflict) {
  const sheet = Number(conflict.sheet.value);
  const db = Number(conflict.db.value);
  // A side that is empty or not a number loses; if neither is a number, the database keeps its value.
  if (conflict.sheet.value === null || !Number.isFinite(sheet)) return 'db';
  if (conflict.db.value === null || !Number.isFinite(db)) return 'sheet';
  return sheet > db ? 'sheet' : 'db';
}
