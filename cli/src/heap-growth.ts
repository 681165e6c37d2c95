/**
 * attach and reconcile stream a table of any size a few thousand rows at a time, so their live
 * heap stays at tens of MB. But on a machine with much memory V8 lets the heap grow to about 4×
 * its live size between full collections, and that garbage is what peak RSS measures (a
 * 30,000-row attach: 256 MB peak RSS with V8's default, 185 MB with the growth held to 1.5×).
 * These bulk commands hold it to 1.5×: full collections (incremental and concurrent) come more
 * often, for a fraction of the memory. V8 reads `--heap-growing-percent` whenever it sets the next
 * heap limit, so it takes effect when set at run time. It is process-wide, so only the one-shot
 * bulk commands set it.
 */
import { setFlagsFromString } from 'node:v8';

let held = false;

export function holdHeapGrowth(): void {
  if (held) return;
  held = true;
  setFlagsFromString('--heap-growing-percent=50');
}
