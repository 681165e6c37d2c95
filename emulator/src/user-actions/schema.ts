/**
 * The body of `POST /_emulator/v1/spreadsheets/{id}/userActions` (DESIGN.md §3): the Sheets
 * API's own conventions. `range`, `source` and `destination` are A1 notation; `index`, `count`
 * and `destinationIndex` are zero-based row indexes like a DimensionRange (index 0 is the header
 * row), column indexes for the column actions (index 0 is column A); `destinationIndex` counts
 * positions before the move, as moveDimension's does; `sortSpecs` are the API's SortSpec objects
 * with `dimensionIndex` counted across the whole sheet. `sheet` is a tab title or a sheetId.
 */
import * as v from 'valibot';
import type { UserActionFiring } from '../apps-script/runtime.ts';

const cellInput = v.union([v.string(), v.number(), v.boolean(), v.null()]);
const sheetRef = v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.number(), v.integer())]);
const index = v.pipe(v.number(), v.integer(), v.minValue(0));
const count = v.pipe(v.number(), v.integer(), v.minValue(1));
const a1 = v.pipe(v.string(), v.minLength(1));

export const UserActionSchema = v.variant('type', [
  v.strictObject({
    type: v.literal('edit'),
    range: a1,
    values: v.pipe(v.array(v.array(cellInput)), v.minLength(1)),
  }),
  v.strictObject({ type: v.literal('insertRows'), sheet: sheetRef, index, count }),
  v.strictObject({ type: v.literal('deleteRows'), sheet: sheetRef, index, count }),
  v.strictObject({ type: v.literal('insertColumns'), sheet: sheetRef, index, count }),
  v.strictObject({ type: v.literal('deleteColumns'), sheet: sheetRef, index, count }),
  v.strictObject({
    type: v.literal('sortRange'),
    range: a1,
    sortSpecs: v.pipe(
      v.array(
        v.strictObject({
          dimensionIndex: index,
          sortOrder: v.optional(v.picklist(['ASCENDING', 'DESCENDING', 'SORT_ORDER_UNSPECIFIED'])),
        }),
      ),
      v.minLength(1),
    ),
  }),
  v.strictObject({ type: v.literal('moveRows'), sheet: sheetRef, index, count, destinationIndex: index }),
  v.strictObject({ type: v.literal('moveColumns'), sheet: sheetRef, index, count, destinationIndex: index }),
  v.strictObject({
    type: v.literal('renameSheet'),
    sheet: sheetRef,
    title: v.pipe(v.string(), v.minLength(1)),
  }),
  v.strictObject({ type: v.literal('clear'), range: a1 }),
  v.strictObject({ type: v.literal('copyPaste'), source: a1, destination: a1 }),
]);

export const UserActionsRequestSchema = v.strictObject({
  actions: v.pipe(v.array(UserActionSchema), v.minLength(1), v.maxLength(1000)),
});

export type UserAction = v.InferOutput<typeof UserActionSchema>;
export type UserActionsRequest = v.InferOutput<typeof UserActionsRequestSchema>;

/** What applying a user action did: its result for the response, and the trigger it fires. */
export interface AppliedAction {
  /** What the action changed, for the response. */
  result: Record<string, unknown>;
  firing: UserActionFiring;
}
