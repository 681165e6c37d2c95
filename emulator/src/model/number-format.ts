/**
 * Rendering a value as FORMATTED_VALUE. Dates are serial numbers, days since 1899-12-30, as the
 * API documents for dateTimeRenderOption SERIAL_NUMBER. Patterns follow
 * https://developers.google.com/sheets/api/guides/formats; the subset handled is listed in
 * emulator/README.md (en_US locale only).
 */
import type { CellValue, NumberFormat } from './cell.ts';

const epochOffsetDays = 25_569; // serial number of 1970-01-01
const msPerDay = 86_400_000;

export function serialFromUtc(ms: number): number {
  return ms / msPerDay + epochOffsetDays;
}

export function utcFromSerial(serial: number): Date {
  return new Date(Math.round((serial - epochOffsetDays) * msPerDay));
}

/** Google's automatic number format: plain decimal up to 15 significant digits, else E notation. */
export function formatGeneralNumber(n: number): string {
  if (!Number.isFinite(n)) return '#NUM!';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1e15 || abs < 1e-9) {
    const [mantissa = '0', exponent = '0'] = n.toExponential(2).split('e');
    const e = Number(exponent);
    return `${mantissa.replace(/\.?0+$/, '')}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(Number(n.toPrecision(15)));
}

export function formatValue(value: CellValue, format: NumberFormat | undefined): string {
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string') return value;
  if (!format || format.type === 'TEXT' || !format.pattern) return formatGeneralNumber(value);
  switch (format.type) {
    case 'DATE':
    case 'TIME':
    case 'DATE_TIME':
      return formatDate(value, format.pattern);
    default:
      return formatNumber(value, format.pattern);
  }
}

const monthNames = [
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
const dayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Date tokens: yyyy yy mmmm mmm mm m dddd ddd dd d hh h ss am/pm; `m` next to h or s means minutes. */
export function formatDate(serial: number, pattern: string): string {
  const date = utcFromSerial(serial);
  const tokens = pattern.match(/yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am\/pm|"[^"]*"|\\.|./gi) ?? [];
  const kinds = tokens.map((token) => token.toLowerCase().replace(/^(.)\1*$/, '$1'));
  const fieldIndexes = kinds.flatMap((kind, i) => (/^[ymdhs]$/.test(kind) ? [i] : []));
  const isMinute = (i: number): boolean => {
    const at = fieldIndexes.indexOf(i);
    const before = fieldIndexes[at - 1];
    const after = fieldIndexes[at + 1];
    return (before !== undefined && kinds[before] === 'h') || (after !== undefined && kinds[after] === 's');
  };
  const twelveHour = /am\/pm/i.test(pattern);
  const hours = date.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return tokens
    .map((token, i) => {
      const lower = token.toLowerCase();
      if (lower === 'yyyy') return String(date.getUTCFullYear());
      if (lower === 'yy') return pad(date.getUTCFullYear() % 100);
      if (lower === 'mmmm') return monthNames[date.getUTCMonth()] ?? '';
      if (lower === 'mmm') return (monthNames[date.getUTCMonth()] ?? '').slice(0, 3);
      if (lower === 'mm' || lower === 'm') {
        const value = isMinute(i) ? date.getUTCMinutes() : date.getUTCMonth() + 1;
        return lower === 'mm' ? pad(value) : String(value);
      }
      if (lower === 'dddd') return dayNames[date.getUTCDay()] ?? '';
      if (lower === 'ddd') return (dayNames[date.getUTCDay()] ?? '').slice(0, 3);
      if (lower === 'dd') return pad(date.getUTCDate());
      if (lower === 'd') return String(date.getUTCDate());
      if (lower === 'hh' || lower === 'h') {
        const h = twelveHour ? ((hours + 11) % 12) + 1 : hours;
        return lower === 'hh' ? pad(h) : String(h);
      }
      if (lower === 'ss') return pad(date.getUTCSeconds());
      if (lower === 's') return String(date.getUTCSeconds());
      if (lower === 'am/pm') return hours < 12 ? 'AM' : 'PM';
      if (token.startsWith('"')) return token.slice(1, -1);
      if (token.startsWith('\\')) return token.slice(1);
      return token;
    })
    .join('');
}

/** Number patterns: `0`, `0.00`, `0.##`, `#,##0.00`, `0%`, `0.00E+00`, literal prefixes and suffixes. */
export function formatNumber(n: number, pattern: string): string {
  const section = pattern.split(';')[n < 0 && pattern.includes(';') ? 1 : 0] ?? pattern;
  const match = /^(.*?)([#0,]*0[#0,]*|#[#,]*)(\.(0*)(#*))?(E\+0+)?(.*)$/.exec(section);
  if (!match) return formatGeneralNumber(n);
  const literal = (text: string) => text.replace(/"([^"]*)"|\\(.)/g, '$1$2');
  const prefix = literal(match[1] ?? '');
  const suffix = literal(match[7] ?? '');
  const decimals = (match[4] ?? '').length;
  // `#` after the point: an optional digit, shown only when it is not a trailing zero.
  const optional = (match[5] ?? '').length;
  const percent = suffix.includes('%') || prefix.includes('%');
  let value = percent ? n * 100 : n;
  const negative = value < 0 && !pattern.includes(';');
  value = Math.abs(value);
  let body: string;
  if (match[6]) {
    const [mantissa = '', exponent = '0'] = value.toExponential(decimals).split('e');
    const e = Number(exponent);
    body = `${mantissa}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(match[6].length - 2, '0')}`;
  } else {
    body = value.toFixed(Math.min(decimals + optional, 100));
    if (optional > 0) {
      const [int = '', frac = ''] = body.split('.');
      const kept = frac.slice(0, decimals) + frac.slice(decimals).replace(/0+$/, '');
      body = kept === '' ? int : `${int}.${kept}`;
    }
    if ((match[2] ?? '').includes(',')) {
      const [int = '', frac] = body.split('.');
      body = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac === undefined ? '' : `.${frac}`);
    }
  }
  return `${negative ? '-' : ''}${prefix}${body}${suffix}`;
}
