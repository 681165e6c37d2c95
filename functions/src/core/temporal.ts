/**
 * Dates and timestamps between PostgreSQL's text forms and what a sheet holds: ISO 8601 text,
 * `M/D/YYYY`, or a serial number (days since 1899-12-30, the epoch of Sheets' date serials).
 * Canonical forms: date `YYYY-MM-DD`; timestamptz in UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`;
 * timestamp `YYYY-MM-DDTHH:MM:SS[.ffffff]`. Microseconds are kept (JavaScript dates hold ms only).
 */

const sheetsEpochDays = 25569; // 1970-01-01 as a Sheets serial
const dayMs = 86_400_000;

const isoPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const usPattern = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

interface Parts {
  ms: number;
  /** Digits beyond milliseconds ("" or up to three). */
  micros: string;
  hasTime: boolean;
  offsetMinutes: number | null;
}

function parseParts(text: string): Parts | undefined {
  const iso = isoPattern.exec(text.trim());
  const us = iso ? undefined : usPattern.exec(text.trim());
  if (!iso && !us) return undefined;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = iso
    ? [iso[1]!, iso[2]!, iso[3]!, iso[4], iso[5], iso[6]]
    : [us![3]!, us![1]!, us![2]!, us![4], us![5], us![6]];
  const fraction = (iso?.[7] ?? '').padEnd(6, '0');
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  date.setUTCFullYear(Number(y));
  const valid =
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60;
  if (!valid || Number(s) > 59) return undefined;
  const zone = iso?.[8];
  let offsetMinutes: number | null = null;
  if (zone) {
    if (zone.toUpperCase() === 'Z') offsetMinutes = 0;
    else {
      const digits = zone.replace(':', '');
      const sign = digits.startsWith('-') ? -1 : 1;
      offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0'));
    }
  }
  return {
    ms: date.getTime() + Number(fraction.slice(0, 3)),
    micros: fraction.slice(3),
    hasTime: (iso?.[4] ?? us?.[4]) !== undefined,
    offsetMinutes,
  };
}

function formatIso(ms: number, micros: string, zone: 'Z' | ''): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = `${iso.slice(20, 23)}${micros.padEnd(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}${zone}`;
}

function fromSerial(serial: number): number {
  return Math.round((serial - sheetsEpochDays) * dayMs);
}

export function canonicalDate(value: string | number): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return new Date(fromSerial(Math.floor(value))).toISOString().slice(0, 10);
  }
  const parts = parseParts(value);
  if (!parts) return undefined;
  // A date column keeps the calendar date as written, whatever the time or offset after it.
  return new Date(parts.ms).toISOString().slice(0, 10);
}

/** `withZone`: timestamptz (UTC; text without an offset is taken as UTC) or timestamp. */
export function canonicalTimestamp(value: string | number, withZone: boolean): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return formatIso(fromSerial(value), '', withZone ? 'Z' : '');
  }
  const parts = parseParts(value);
  if (!parts) return undefined;
  const ms = parts.ms - (withZone ? (parts.offsetMinutes ?? 0) * 60_000 : 0);
  return formatIso(ms, parts.micros, withZone ? 'Z' : '');
}
