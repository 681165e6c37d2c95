/**
 * Wall-clock arithmetic in a named time zone with Intl only. Spreadsheet dates are serial
 * numbers (days since 1899-12-30) in the spreadsheet's time zone; Apps Script hands them to a
 * script as Date objects for that wall-clock time.
 */
const SERIAL_EPOCH_DAYS = 25569; // 1970-01-01 as a Sheets serial number
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock fields of an instant in a time zone. */
export function wallClock(epochMs: number, timeZone: string) {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(new Date(epochMs))) parts[part.type] = part.value;
  const fields = {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond: ((epochMs % 1000) + 1000) % 1000,
    weekday: parts.weekday ?? 'Mon',
  };
  const asUtc = Date.UTC(
    fields.year,
    fields.month - 1,
    fields.day,
    fields.hour,
    fields.minute,
    fields.second,
  );
  return { ...fields, offsetMs: asUtc - (epochMs - fields.millisecond) };
}

export function serialToEpochMs(serial: number, timeZone: string): number {
  const wall = Math.round((serial - SERIAL_EPOCH_DAYS) * DAY_MS);
  const guess = wall - wallClock(wall, timeZone).offsetMs;
  return wall - wallClock(guess, timeZone).offsetMs;
}

export function epochMsToSerial(epochMs: number, timeZone: string): number {
  return (epochMs + wallClock(epochMs, timeZone).offsetMs) / DAY_MS + SERIAL_EPOCH_DAYS;
}
