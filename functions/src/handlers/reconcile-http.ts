/**
 * The `reconcile` function: Cloud Scheduler calls it (terraform/scheduler.tf) to compare each
 * link's sheet and table in full and repair what drifted, as `sheetsync reconcile` does
 * (functions/src/sync-jobs/reconcile.ts): changes that never arrived (a dead-lettered message, a
 * change made while a trigger was off), cells both sides changed, rows only one side has.
 *
 * `?link=NAME` reconciles one link, `?dryRun=true` only reports. Links run one after another
 * (each reads its whole tab; the function is deployed with one instance and one request at a
 * time, so runs never overlap). The answer is 200 with each link's counts when every link
 * reconciled, 500 when any failed (its code and message in the answer and the log; the others
 * still ran), 400 for an unknown link or a malformed query. A run that found the sheet's rows
 * moving under it (SHEETSYNC_E506) changed nothing the move could misplace: the next run repairs.
 */

import type postgres from 'postgres';
import type { SheetsApi } from '../adapters/sheets/sheets-api.ts';
import { type ErrorCode, isErrorCode } from '../error-codes.ts';
import type { Logger } from '../log.ts';
import type { VersionStore } from '../ports.ts';
import { type ReconcileResult, reconcileLink } from '../sync-jobs/reconcile.ts';
import type { LinkConfig } from '../wire/config.ts';

export interface ReconcileHttpDeps {
  links: readonly LinkConfig[];
  sql: postgres.Sql;
  sheetsApi: SheetsApi;
  store: VersionStore;
  logger: Logger;
  /** Injected by tests; reconcileLink otherwise. */
  reconcile?: typeof reconcileLink;
  now?: () => number;
}

export interface ReconcileHttpRequest {
  query?: Record<string, unknown>;
}

export interface ReconcileHttpResponse {
  status(code: number): { json(body: unknown): unknown };
}

type LinkOutcome =
  | ({ link: string; ok: true; ms: number } & ReconcileResult)
  | { link: string; ok: false; ms: number; code: ErrorCode; message: string };

export function reconcileHttpHandler(deps: ReconcileHttpDeps) {
  const reconcile = deps.reconcile ?? reconcileLink;
  const now = deps.now ?? Date.now;
  return async (req: ReconcileHttpRequest, res: ReconcileHttpResponse): Promise<void> => {
    const query = req.query ?? {};
    const name = query.link;
    const dryRunParam = query.dryRun;
    if (
      (name !== undefined && typeof name !== 'string') ||
      !['true', 'false', undefined].includes(dryRunParam as never)
    ) {
      res.status(400).json({
        error: {
          code: 'SHEETSYNC_E754',
          message: 'the query takes link=NAME (once) and dryRun=true|false; nothing ran',
        },
      });
      return;
    }
    const links = name === undefined ? deps.links : deps.links.filter((l) => l.name === name);
    if (links.length === 0) {
      const known = deps.links.map((l) => `"${l.name}"`).join(', ') || 'none';
      res.status(400).json({
        error: {
          code: 'SHEETSYNC_E101',
          message: `no link named "${name ?? ''}" is configured (the links are ${known}); nothing ran`,
        },
      });
      return;
    }
    const dryRun = dryRunParam === 'true';
    const outcomes: LinkOutcome[] = [];
    for (const link of links) {
      const started = now();
      try {
        const result = await reconcile({
          sql: deps.sql,
          sheetsApi: deps.sheetsApi,
          store: deps.store,
          link,
          logger: deps.logger,
          dryRun,
        });
        const ms = now() - started;
        outcomes.push({ link: link.name, ok: true, ms, ...result });
        const { badCells, deletesRefused, held, ...counts } = result;
        deps.logger.info('reconciled a link', {
          link: link.name,
          op: 'reconcile',
          ms,
          ...counts,
          badCells: badCells.length,
          deletesRefused: deletesRefused.length,
          held: held.length,
        });
        for (const refused of deletesRefused.slice(0, 20)) {
          // Their messages quote values (PostgreSQL's, the coercion's): the codes and places only.
          deps.logger.warn('reconcile kept a row the table would not delete; it is back on the sheet', {
            link: link.name,
            rowId: refused.rowId,
            code: 'SHEETSYNC_E412',
          });
        }
        for (const bad of badCells.slice(0, 20)) {
          deps.logger.warn('reconcile left a cell that does not fit its column', {
            link: link.name,
            row: bad.row,
            column: bad.column,
            code: 'SHEETSYNC_E407',
          });
        }
      } catch (error) {
        const ms = now() - started;
        const code = (error as { code?: unknown }).code;
        const outcome = {
          link: link.name,
          ok: false as const,
          ms,
          code: isErrorCode(code) ? code : 'SHEETSYNC_E901',
          message: error instanceof Error ? error.message : String(error),
        };
        outcomes.push(outcome);
        deps.logger.error(`reconcile of link ${link.name} failed: ${outcome.message}`, {
          link: link.name,
          op: 'reconcile',
          code: outcome.code,
        });
      }
    }
    res.status(outcomes.every((o) => o.ok) ? 200 : 500).json({ dryRun, links: outcomes });
  };
}
