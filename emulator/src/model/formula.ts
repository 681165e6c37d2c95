/**
 * Limited formula evaluation. Formulas are stored as text and evaluated when read, so a formula
 * always reflects the cells it references. Supported: number, string ("" escapes a quote) and
 * boolean literals; references `A1`, `A1:B5`, `Sheet2!A1`, `'My tab'!A:A`; operators
 * + - * / ^ & = <> < > <= >= and a postfix %; functions SUM AVERAGE MIN MAX COUNT COUNTA IF AND
 * OR NOT CONCATENATE CONCAT LEN UPPER LOWER TRIM ROUND ABS. Anything else yields `#NAME?`
 * (Google's code for an unknown function); a cycle yields `#REF!`; a division by zero `#DIV/0!`.
 * References follow inserted and deleted rows and columns (formula-references.ts), not moves.
 */
import { parseA1 } from './a1.ts';
import type { Cell, CellValue, EffectiveValue } from './cell.ts';
import type { Sheet } from './sheet.ts';
import type { Spreadsheet } from './spreadsheet.ts';

class FormulaError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Scalar = CellValue | null;
type Operand = Scalar | Scalar[];

const inProgress = new Set<Cell>();

export function evaluateCell(spreadsheet: Spreadsheet, sheet: Sheet, cell: Cell | undefined): EffectiveValue {
  if (!cell) return undefined;
  if (cell.formula === undefined) return cell.value === undefined ? undefined : { value: cell.value };
  if (inProgress.has(cell)) return { error: '#REF!', message: 'Circular dependency detected.' };
  // A reference whose cells were deleted was rewritten to #REF! (formula-references.ts).
  if (cell.formula.replace(/"(?:[^"]|"")*"/g, '').includes('#REF!')) {
    return { error: '#REF!', message: 'Reference does not exist.' };
  }
  inProgress.add(cell);
  try {
    const parser = new Parser(cell.formula.slice(1), spreadsheet, sheet);
    const result = parser.parse();
    const scalar = Array.isArray(result) ? (result[0] ?? null) : result;
    return { value: scalar ?? '' };
  } catch (error) {
    if (error instanceof FormulaError) return { error: error.code, message: error.message };
    throw error;
  } finally {
    inProgress.delete(cell);
  }
}

const tokenPattern =
  /\s*(?:("(?:[^"]|"")*")|('(?:[^']|'')*'![$A-Za-z0-9:]+|[A-Za-z_][A-Za-z0-9_.]*![$A-Za-z0-9:]+|\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d*)?|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})|(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_.]*)|(<>|<=|>=|[-+*/^&=<>(),%;]))/y;

class Parser {
  private tokens: { kind: 'string' | 'ref' | 'number' | 'name' | 'op'; text: string }[] = [];
  private at = 0;

  constructor(
    text: string,
    private readonly spreadsheet: Spreadsheet,
    private readonly sheet: Sheet,
  ) {
    tokenPattern.lastIndex = 0;
    while (tokenPattern.lastIndex < text.length) {
      if (/^\s*$/.test(text.slice(tokenPattern.lastIndex))) break;
      const match = tokenPattern.exec(text);
      if (!match) throw new FormulaError('#ERROR!', 'Formula parse error.');
      const kinds = ['string', 'ref', 'number', 'name', 'op'] as const;
      const index = [1, 2, 3, 4, 5].findIndex((group) => match[group] !== undefined);
      this.tokens.push({ kind: kinds[index] ?? 'op', text: match[index + 1] ?? '' });
    }
  }

  parse(): Operand {
    const value = this.comparison();
    if (this.at < this.tokens.length) throw new FormulaError('#ERROR!', 'Formula parse error.');
    return value;
  }

  private peek(): string | undefined {
    const token = this.tokens[this.at];
    return token?.kind === 'op' ? token.text : undefined;
  }

  private comparison(): Operand {
    let left = this.concat();
    for (let op = this.peek(); op && ['=', '<>', '<', '>', '<=', '>='].includes(op); op = this.peek()) {
      this.at++;
      const right = this.concat();
      const order = compare(scalar(left), scalar(right));
      left = {
        '=': order === 0,
        '<>': order !== 0,
        '<': order < 0,
        '>': order > 0,
        '<=': order <= 0,
        '>=': order >= 0,
      }[op] as boolean;
    }
    return left;
  }

  private concat(): Operand {
    let left = this.additive();
    while (this.peek() === '&') {
      this.at++;
      left = text(scalar(left)) + text(scalar(this.additive()));
    }
    return left;
  }

  private additive(): Operand {
    let left = this.term();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.at++;
      const right = number(scalar(this.term()));
      left = op === '+' ? number(scalar(left)) + right : number(scalar(left)) - right;
    }
    return left;
  }

  private term(): Operand {
    let left = this.power();
    for (let op = this.peek(); op === '*' || op === '/'; op = this.peek()) {
      this.at++;
      const right = number(scalar(this.power()));
      if (op === '/' && right === 0)
        throw new FormulaError('#DIV/0!', 'Function DIVIDE parameter 2 cannot be zero.');
      left = op === '*' ? number(scalar(left)) * right : number(scalar(left)) / right;
    }
    return left;
  }

  private power(): Operand {
    let left = this.unary();
    while (this.peek() === '^') {
      this.at++;
      left = number(scalar(left)) ** number(scalar(this.unary()));
    }
    return left;
  }

  private unary(): Operand {
    const op = this.peek();
    if (op === '-' || op === '+') {
      this.at++;
      const value = number(scalar(this.unary()));
      return op === '-' ? -value : value;
    }
    let value = this.primary();
    while (this.peek() === '%') {
      this.at++;
      value = number(scalar(value)) / 100;
    }
    return value;
  }

  private primary(): Operand {
    const token = this.tokens[this.at++];
    if (!token) throw new FormulaError('#ERROR!', 'Formula parse error.');
    switch (token.kind) {
      case 'number':
        return Number(token.text);
      case 'string':
        return token.text.slice(1, -1).replaceAll('""', '"');
      case 'ref':
        return this.reference(token.text);
      case 'name': {
        const upper = token.text.toUpperCase();
        if (this.peek() !== '(') {
          if (upper === 'TRUE' || upper === 'FALSE') return upper === 'TRUE';
          throw new FormulaError('#NAME?', `Unknown range name: '${token.text}'.`);
        }
        this.at++;
        const args: Operand[] = [];
        if (this.peek() !== ')') {
          for (;;) {
            args.push(this.comparison());
            const separator = this.peek();
            if (separator === ',' || separator === ';') this.at++;
            else break;
          }
        }
        if (this.tokens[this.at++]?.text !== ')') throw new FormulaError('#ERROR!', 'Formula parse error.');
        return callFunction(upper, args);
      }
      default:
        if (token.text === '(') {
          const value = this.comparison();
          if (this.tokens[this.at++]?.text !== ')') throw new FormulaError('#ERROR!', 'Formula parse error.');
          return value;
        }
        throw new FormulaError('#ERROR!', 'Formula parse error.');
    }
  }

  private reference(text: string): Operand {
    let resolved: ReturnType<Spreadsheet['resolveA1']>;
    try {
      const plain = text.replaceAll('$', '');
      resolved =
        parseA1(plain).sheetTitle === undefined
          ? this.spreadsheet.resolveA1(`'${this.sheet.title.replaceAll("'", "''")}'!${plain}`)
          : this.spreadsheet.resolveA1(plain);
    } catch {
      throw new FormulaError('#REF!', `Unresolved sheet name in '${text}'.`);
    }
    const { sheet, range } = resolved;
    const bounded = this.spreadsheet.bound(sheet, range);
    const single =
      bounded.endRowIndex - bounded.startRowIndex === 1 &&
      bounded.endColumnIndex - bounded.startColumnIndex === 1;
    const read = (r: number, c: number): Scalar => {
      const effective = evaluateCell(this.spreadsheet, sheet, sheet.getCell(r, c));
      if (effective && 'error' in effective) throw new FormulaError(effective.error, effective.message);
      return effective?.value ?? null;
    };
    if (single) return read(bounded.startRowIndex, bounded.startColumnIndex);
    const cells: Scalar[] = [];
    const endRow = Math.min(bounded.endRowIndex, sheet.rows.length);
    for (let r = bounded.startRowIndex; r < endRow; r++) {
      const endColumn = Math.min(bounded.endColumnIndex, sheet.rows[r]?.length ?? 0);
      for (let c = bounded.startColumnIndex; c < endColumn; c++) cells.push(read(r, c));
    }
    return cells;
  }
}

function scalar(operand: Operand): Scalar {
  if (!Array.isArray(operand)) return operand;
  if (operand.length > 1) throw new FormulaError('#VALUE!', 'An array value could not be found.');
  return operand[0] ?? null;
}

function number(value: Scalar): number {
  if (value === null || value === '') return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  const n = Number(value.trim());
  if (value.trim() === '' || Number.isNaN(n)) {
    throw new FormulaError(
      '#VALUE!',
      `Function expects number values. But '${value}' is a text and cannot be coerced to a number.`,
    );
  }
  return n;
}

function text(value: Scalar): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return String(value);
}

/** Google orders numbers before text before booleans; text compares case-insensitively. */
function compare(a: Scalar, b: Scalar): number {
  const rank = (v: Scalar) => (v === null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
  const left = a === null ? (typeof b === 'string' ? '' : typeof b === 'boolean' ? false : 0) : a;
  const right = b === null ? (typeof a === 'string' ? '' : typeof a === 'boolean' ? false : 0) : b;
  if (rank(left) !== rank(right)) return rank(left) - rank(right);
  if (typeof left === 'string' && typeof right === 'string')
    return left.toLowerCase().localeCompare(right.toLowerCase());
  return Number(left) - Number(right);
}

function flatten(args: Operand[]): { values: Scalar[]; fromRange: boolean[] } {
  const values: Scalar[] = [];
  const fromRange: boolean[] = [];
  for (const arg of args) {
    for (const value of Array.isArray(arg) ? arg : [arg]) {
      values.push(value);
      fromRange.push(Array.isArray(arg));
    }
  }
  return { values, fromRange };
}

/** Numbers for aggregates: values from ranges count only when numeric, as in Google. */
function numbers(args: Operand[]): number[] {
  const { values, fromRange } = flatten(args);
  return values.flatMap((v, i) =>
    fromRange[i] ? (typeof v === 'number' ? [v] : []) : v === null ? [] : [number(v)],
  );
}

function callFunction(name: string, args: Operand[]): Operand {
  const arg = (i: number) => scalar(args[i] ?? null);
  switch (name) {
    case 'SUM':
      return numbers(args).reduce((a, b) => a + b, 0);
    case 'AVERAGE': {
      const ns = numbers(args);
      if (ns.length === 0)
        throw new FormulaError('#DIV/0!', 'Evaluation of function AVERAGE caused a divide by zero error.');
      return ns.reduce((a, b) => a + b, 0) / ns.length;
    }
    case 'MIN':
      return numbers(args).length ? Math.min(...numbers(args)) : 0;
    case 'MAX':
      return numbers(args).length ? Math.max(...numbers(args)) : 0;
    case 'COUNT':
      return flatten(args).values.filter((v) => typeof v === 'number').length;
    case 'COUNTA':
      return flatten(args).values.filter((v) => v !== null && v !== '').length;
    case 'IF':
      return truthy(arg(0)) ? (args[1] ?? true) : (args[2] ?? false);
    case 'AND':
      return flatten(args).values.every(truthy);
    case 'OR':
      return flatten(args).values.some(truthy);
    case 'NOT':
      return !truthy(arg(0));
    case 'CONCATENATE':
    case 'CONCAT':
      return flatten(args).values.map(text).join('');
    case 'LEN':
      return text(arg(0)).length;
    case 'UPPER':
      return text(arg(0)).toUpperCase();
    case 'LOWER':
      return text(arg(0)).toLowerCase();
    case 'TRIM':
      return text(arg(0)).trim().replace(/\s+/g, ' ');
    case 'ROUND': {
      const factor = 10 ** number(arg(1));
      return Math.round(number(arg(0)) * factor) / factor;
    }
    case 'ABS':
      return Math.abs(number(arg(0)));
    default:
      throw new FormulaError('#NAME?', `Unknown function: '${name.toLowerCase()}'.`);
  }
}

function truthy(value: Scalar): boolean {
  if (typeof value === 'string') {
    const upper = value.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return upper === 'TRUE';
    throw new FormulaError(
      '#VALUE!',
      `Function IF parameter 1 expects boolean values. But '${value}' is a text and cannot be coerced to a boolean.`,
    );
  }
  return number(value) !== 0;
}
