/**
 * The headers the Apps Script of spreadsheet `spreadsheetId` sends with `rawBody`, signed with that
 * spreadsheet's own secret derived from the webhook's `master` (sheet-webhook/signature.ts).
 */
import { sign, spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';

export function signedHeaders(
  master: string,
  spreadsheetId: string,
  rawBody: Buffer | Uint8Array | string,
  options: { timestamp?: number; version?: number; signingSpreadsheet?: string } = {},
): Record<string, string> {
  const timestamp = String(options.timestamp ?? Date.now());
  const signer = options.signingSpreadsheet ?? spreadsheetId;
  return {
    'x-sheetsync-spreadsheet': spreadsheetId,
    'x-sheetsync-timestamp': timestamp,
    'x-sheetsync-signature': sign(
      spreadsheetSecret(master, signer, options.version),
      timestamp,
      Buffer.from(rawBody),
    ),
  };
}
