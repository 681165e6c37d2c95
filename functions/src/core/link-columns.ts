/**
 * A link's `columns` allowlist (DESIGN.md §2, "Who may write what"): with it, only those columns
 * and the key ever reach the sheet or are written from it, on every path. A column outside it
 * (say `password_hash`, updated in the table) must not travel to a sheet many people can read,
 * and a header a person types with its name must not write it.
 */

/** The columns a link syncs, or undefined when it syncs every column of its table. */
export function allowedColumns(
  columns: readonly string[] | undefined,
  key: readonly string[],
): ReadonlySet<string> | undefined {
  return columns ? new Set([...columns, ...key]) : undefined;
}

/** `cells` without the columns outside `allowed` (all of them when `allowed` is undefined). */
export function onlyAllowed<T>(cells: Readonly<Record<string, T>>, allowed: ReadonlySet<string> | undefined) {
  if (!allowed) return cells as Record<string, T>;
  const kept: Record<string, T> = {};
  for (const [column, value] of Object.entries(cells)) if (allowed.has(column)) kept[column] = value;
  return kept;
}
