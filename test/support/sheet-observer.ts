/**
 * A test's own reads of the local sheet over HTTP, as an observer that never takes sheetsync's
 * quota nor runs out of its own. The local sheet counts quotas as Google does
 * (https://developers.google.com/sheets/api/limits: 60 reads a minute per user, 300 per project,
 * in fixed one-minute windows; emulator/src/quotas.ts): a test polling every 50 ms used up its
 * user's minute in 3 s and then waited for the next window. So every read here goes on a quota
 * project of its own (X-Goog-User-Project, https://cloud.google.com/docs/quotas/set-quota-project),
 * round-robin over five quota users (`quotaUser`), at most one every 250 ms: 48 a minute per user,
 * 240 for the project.
 */

const USERS = 5;
const PACE_MS = 250;
let lastRead = 0;
let reads = 0;

/** GETs `url` (a Sheets API URL) as the observer, after waiting for its turn. */
export async function observe(url: string): Promise<Response> {
  const turn = Math.max(Date.now(), lastRead + PACE_MS);
  lastRead = turn;
  const wait = turn - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const address = new URL(url);
  address.searchParams.set('quotaUser', `observer-${reads++ % USERS}`);
  return fetch(address, { headers: { 'x-goog-user-project': 'observer' } });
}

/** A tab's (or range's) values as `values.get` returns them; throws on any answer but 200. */
export async function observeValues(
  sheetsApiUrl: string,
  spreadsheetId: string,
  range: string,
  query = '',
): Promise<unknown[][]> {
  const response = await observe(
    `${sheetsApiUrl}/v4/spreadsheets/${spreadsheetId}/values/${encodeURIComponent(range)}${query}`,
  );
  if (!response.ok) throw new Error(`values.get ${range}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { values?: unknown[][] }).values ?? [];
}
