import { describe, expect, it } from 'vitest';
import {
  SKEW_TOLERANCE_MS,
  sheetClockOffset,
} from '../../functions/src/handlers/sheet-webhook/sheet-clock.ts';

describe('sheetClockOffset', () => {
  const received = 1_800_000_000_000;
  it('leaves times alone within the tolerance: latency alone can reach it', () => {
    expect(sheetClockOffset(String(received - 300), received)).toBe(0);
    expect(sheetClockOffset(String(received + SKEW_TOLERANCE_MS), received)).toBe(0);
  });
  it("moves them onto the webhook's clock beyond it, either way", () => {
    expect(sheetClockOffset(String(received - 120_000), received)).toBe(120_000);
    expect(sheetClockOffset(String(received + 120_000), received)).toBe(-120_000);
  });
  it('ignores a timestamp that is not a number', () => {
    expect(sheetClockOffset(undefined, received)).toBe(0);
    expect(sheetClockOffset('soon', received)).toBe(0);
  });
});
