/**
 * The emulator's logger: where it reports what a caller may want to see (the Apps Script's
 * `console`/`Logger` lines, executions that failed). The emulator stands in for Google and knows
 * nothing of the program under test, so it declares the little it needs; any logger with these
 * four methods fits, a structured JSON one included.
 */

/** Labels of an entry: flat keys and plain values. */
export type LogLabels = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, labels?: LogLabels): void;
  info(message: string, labels?: LogLabels): void;
  warn(message: string, labels?: LogLabels): void;
  error(message: string, labels?: LogLabels): void;
}
