/**
 * `sheetsync secret --spreadsheet ID`: the secret the Apps Script of one spreadsheet signs with,
 * for its **Set up…**. Each spreadsheet has its own, derived from the webhook's secret and the
 * spreadsheet's id at its links' `secretVersion` (functions/src/handlers/sheet-webhook/signature.ts),
 * so an editor of one linked spreadsheet, who can read its script's properties, cannot sign events
 * for another.
 *
 * The webhook's secret comes from SHEETSYNC_WEBHOOK_SECRET (deployed: the `webhook_secret` given
 * to terraform), or from the running `npm start`'s state directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../functions/src/config.ts';
import { SheetsyncError } from '../../functions/src/errors.ts';
import { spreadsheetSecret } from '../../functions/src/handlers/sheet-webhook/signature.ts';
import { secretVersionOf } from '../../functions/src/wire/config.ts';
import { readLocalInfo } from './local-stack.ts';

export const SECRET_USAGE = `  secret       the secret a spreadsheet's Apps Script signs with (paste it in its Set up…)
               --spreadsheet ID  [--config FILE]  [--state-dir DIR]
               the webhook's secret from SHEETSYNC_WEBHOOK_SECRET, else the running npm start's
`;

/** `sheetsync secret --spreadsheet ID`: 0 printed, 1 no webhook secret found, 2 usage. */
export async function runSecretCommand(args: string[]): Promise<number> {
  let values: { spreadsheet?: string; config?: string; 'state-dir': string };
  try {
    values = parseArgs({
      args,
      options: {
        spreadsheet: { type: 'string' },
        config: { type: 'string' },
        'state-dir': { type: 'string', default: '.sheetsync' },
      },
      strict: true,
    }).values as typeof values;
  } catch (error) {
    process.stderr.write(`sheetsync secret: ${(error as Error).message}\n\n${SECRET_USAGE}`);
    return 2;
  }
  if (!values.spreadsheet) {
    process.stderr.write(`sheetsync secret: --spreadsheet ID is required\n\n${SECRET_USAGE}`);
    return 2;
  }
  const stateDir = values['state-dir'];
  const master = process.env.SHEETSYNC_WEBHOOK_SECRET?.split(',')[0]?.trim() || localSecret(stateDir);
  const configFile = values.config ?? process.env.SHEETSYNC_CONFIG ?? readLocalInfo(stateDir)?.configFile;
  const version = configFile ? secretVersionOf(loadConfigFile(configFile), values.spreadsheet) : 1;
  process.stdout.write(`${spreadsheetSecret(master, values.spreadsheet, version)}\n`);
  process.stderr.write(
    `sheetsync: the secret of spreadsheet ${values.spreadsheet} (secretVersion ${version}); paste it in its sheetsync → Set up…\n`,
  );
  return 0;
}

function localSecret(stateDir: string): string {
  try {
    return readFileSync(join(stateDir, 'webhook-secret'), 'utf8').trim();
  } catch {
    throw new SheetsyncError(
      'SHEETSYNC_E110',
      `no webhook secret: set SHEETSYNC_WEBHOOK_SECRET to the webhook's secret (the webhook_secret you gave terraform), or run this beside a running npm start (${join(stateDir, 'webhook-secret')} not found)`,
    );
  }
}
