import type { HeldChange } from '../core/mass-change.ts';
import { SheetsyncError } from '../errors.ts';

/** SHEETSYNC_E421: a decision for a held change that is unknown or already decided. */
export function heldChangeNotOpen(link: string, id: string, change: HeldChange | undefined): SheetsyncError {
  return new SheetsyncError(
    'SHEETSYNC_E421',
    change
      ? `held change ${id} of link ${link} was already ${change.status}; nothing was done`
      : `link ${link} has no held change ${id}; run \`sheetsync status\` to list the held changes`,
  );
}
