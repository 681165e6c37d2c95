/**
 * The sheet's clock brought onto ours. applyToDb judges whether a sheet edit had seen a database
 * write by comparing the edit's time (the script's clock) with when applyToSheet showed the write
 * (our clock), and last-writer-wins compares it with the write's time (PostgreSQL's clock). With
 * the two clocks minutes apart, an edit typed after the sheet showed a write looked concurrent
 * and lost to it while the sheet kept showing it (behind), or an edit typed before looked
 * sequential and overwrote the write without a conflict record while the sheet kept showing the
 * write (ahead): sheet and table differed. Each request carries the script's clock as it sent it
 * (the signed timestamp, signature.ts), so `received - timestamp` is the skew plus the request's
 * latency; beyond SKEW_TOLERANCE_MS it is the skew, and the event's time is moved by it. Within
 * it, latency dominates the estimate: the times are left as the script stamped them.
 */

/** Skew below this is left alone: a request's latency alone can reach it. */
export const SKEW_TOLERANCE_MS = 5_000;

/** What to add to the event's times: 0 within the tolerance, else our clock minus the sheet's. */
export function sheetClockOffset(timestamp: string | undefined, received: number): number {
  const sent = Number(timestamp);
  if (!Number.isFinite(sent)) return 0;
  const offset = received - sent;
  return Math.abs(offset) > SKEW_TOLERANCE_MS ? offset : 0;
}
