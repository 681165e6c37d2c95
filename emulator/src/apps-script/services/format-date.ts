/**
 * Utilities.formatDate: Java SimpleDateFormat patterns
 * (https://docs.oracle.com/javase/7/docs/api/java/text/SimpleDateFormat.html), the letters a sync
 * script uses: y M d H h m s S a E Z X, and quoted literals.
 */
import { wallClock } from '../time-zone.ts';

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS: Record<string, string> = {
  Mon: 'Monday',
  Tue: 'Tuesday',
  Wed: 'Wednesday',
  Thu: 'Thursday',
  Fri: 'Friday',
  Sat: 'Saturday',
  Sun: 'Sunday',
};

export function formatDate(epochMs: number, timeZone: string, pattern: string): string {
  const zone = timeZone === 'GMT' || timeZone === 'UTC' ? 'UTC' : timeZone;
  const t = wallClock(epochMs, zone);
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const offset = (colon: boolean, zForZero: boolean) => {
    const minutes = Math.round(t.offsetMs / 60_000);
    if (minutes === 0 && zForZero) return 'Z';
    const sign = minutes < 0 ? '-' : '+';
    const abs = Math.abs(minutes);
    return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ':' : ''}${pad(abs % 60, 2)}`;
  };
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i]!;
    if (ch === "'") {
      const end = pattern.indexOf("'", i + 1);
      const literal = pattern.slice(i + 1, end < 0 ? pattern.length : end);
      out += literal === '' ? "'" : literal;
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    let run = 1;
    while (pattern[i + run] === ch) run++;
    i += run;
    switch (ch) {
      case 'y':
        out += run === 2 ? pad(t.year % 100, 2) : pad(t.year, run);
        break;
      case 'M':
        out +=
          run >= 4 ? MONTHS[t.month - 1] : run === 3 ? MONTHS[t.month - 1]!.slice(0, 3) : pad(t.month, run);
        break;
      case 'd':
        out += pad(t.day, run);
        break;
      case 'H':
        out += pad(t.hour, run);
        break;
      case 'h':
        out += pad(t.hour % 12 || 12, run);
        break;
      case 'm':
        out += pad(t.minute, run);
        break;
      case 's':
        out += pad(t.second, run);
        break;
      case 'S':
        out += pad(t.millisecond, 3).slice(0, Math.max(run, 3));
        break;
      case 'a':
        out += t.hour < 12 ? 'AM' : 'PM';
        break;
      case 'E':
        out += run >= 4 ? (DAYS[t.weekday] ?? t.weekday) : t.weekday;
        break;
      case 'Z':
        out += offset(false, false);
        break;
      case 'X':
        out += offset(run >= 3, true);
        break;
      default:
        out += /[A-Za-z]/.test(ch) ? '' : ch.repeat(run);
    }
  }
  return out;
}
