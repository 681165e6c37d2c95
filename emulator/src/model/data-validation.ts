/**
 * Data validation rules (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#DataValidationRule)
 * for the condition types the local sheet models
 * (https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets/other#ConditionType):
 * - BOOLEAN: "The cell's value must be TRUE/FALSE or in the list of condition values. ...
 *   Renders as a cell checkbox. Supports zero, one or two ConditionValues." With one value the
 *   cell is checked when it holds that value and unchecked when blank; with two, checked for the
 *   first and unchecked for the second.
 * - ONE_OF_LIST: "The cell's value must be in the list of condition values. ... Supports any
 *   number of condition values, one per item in the list. Formulas are not supported in the values."
 * - DATE_IS_VALID: "The cell's value must be a date. ... Requires no ConditionValues."
 * A blank cell passes every rule. Rules are checked only against what a person types (see
 * user-actions/cell-actions.ts); API and script writes store any value, as Google's do.
 */
import type { Cell, DataValidationRule } from './cell.ts';
import { invalidArgument } from './errors.ts';

const MODELLED = new Set(['BOOLEAN', 'ONE_OF_LIST', 'DATE_IS_VALID']);

/** The rule as stored, or an INVALID_ARGUMENT saying what is wrong with it. */
export function checkRule(input: unknown): DataValidationRule {
  if (!input || typeof input !== 'object') throw invalidArgument('rule must be a DataValidationRule.');
  const rule = input as DataValidationRule;
  const type = rule.condition?.type;
  if (!type) throw invalidArgument('rule.condition.type is required.');
  if (!MODELLED.has(type)) {
    throw invalidArgument(
      `Condition type ${type} is not modelled by the local sheet; it supports ${[...MODELLED].join(', ')}.`,
    );
  }
  const values = rule.condition.values ?? [];
  for (const value of values) {
    if (value.userEnteredValue === undefined) {
      throw invalidArgument(`${type} condition values must have a userEnteredValue.`);
    }
    if (type === 'ONE_OF_LIST' && value.userEnteredValue.startsWith('=')) {
      throw invalidArgument('ONE_OF_LIST does not support formulas in its values.');
    }
  }
  if (type === 'ONE_OF_LIST' && values.length === 0)
    throw invalidArgument('ONE_OF_LIST requires at least one condition value.');
  if (type === 'BOOLEAN' && values.length > 2)
    throw invalidArgument('BOOLEAN supports zero, one or two condition values.');
  if (type === 'DATE_IS_VALID' && values.length > 0)
    throw invalidArgument('DATE_IS_VALID requires no condition values.');
  return {
    condition: values.length > 0 ? { type, values } : { type },
    ...(rule.inputMessage ? { inputMessage: rule.inputMessage } : {}),
    ...(rule.strict ? { strict: true } : {}),
    ...(rule.showCustomUi ? { showCustomUi: true } : {}),
  };
}

function listValues(rule: DataValidationRule): string[] {
  return (rule.condition.values ?? []).map((value) => value.userEnteredValue ?? '');
}

/** The text a list or a two-valued checkbox compares: what the cell shows for a plain value. */
function valueText(cell: Cell): string | undefined {
  if (cell.value === undefined) return undefined;
  if (typeof cell.value === 'boolean') return cell.value ? 'TRUE' : 'FALSE';
  return String(cell.value);
}

/** Whether `cell` (the cell as it would be after an entry) satisfies `rule`. */
export function satisfies(rule: DataValidationRule, cell: Cell | undefined): boolean {
  if (!cell || (cell.value === undefined && cell.formula === undefined)) return true;
  // A formula's result is not known until it is read; the local sheet lets formulas through.
  if (cell.formula !== undefined) return true;
  const text = valueText(cell);
  switch (rule.condition.type) {
    case 'BOOLEAN': {
      const values = listValues(rule);
      if (values.length === 0) return typeof cell.value === 'boolean';
      return values.some((value) => value.toUpperCase() === text?.toUpperCase());
    }
    case 'ONE_OF_LIST':
      return listValues(rule).includes(text ?? '');
    case 'DATE_IS_VALID': {
      const type = cell.format?.numberFormat?.type;
      return typeof cell.value === 'number' && (type === 'DATE' || type === 'DATE_TIME');
    }
    default:
      return true;
  }
}

/** What the sheet says when it rejects an entry: the rule's help text, else the condition's. */
export function rejectionMessage(rule: DataValidationRule): string {
  if (rule.inputMessage) return rule.inputMessage;
  switch (rule.condition.type) {
    case 'ONE_OF_LIST':
      return 'Input must be an item on the specified list.';
    case 'DATE_IS_VALID':
      return 'Input must be a valid date.';
    default:
      return 'Input must be a checkbox value.';
  }
}

/** What the grid draws for a rule: a checkbox, a dropdown, or nothing special. */
export function gridWidget(
  rule: DataValidationRule | undefined,
): { checkbox: [checked: string, unchecked: string] } | { list: string[] } | undefined {
  if (!rule) return undefined;
  if (rule.condition.type === 'BOOLEAN') {
    const [checked = 'TRUE', unchecked = checked === 'TRUE' ? 'FALSE' : ''] = listValues(rule);
    return { checkbox: [checked, unchecked] };
  }
  if (rule.condition.type === 'ONE_OF_LIST' && rule.showCustomUi) return { list: listValues(rule) };
  return undefined;
}
