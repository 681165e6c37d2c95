/**
 * Partial responses: the `fields` system parameter
 * (https://developers.google.com/sheets/api/guides/field-masks), e.g.
 * `spreadsheetId,sheets(properties(title,sheetId),data/columnMetadata)`. Paths may be written
 * with `/` or `.`; `*` selects everything; a mask applies element-wise inside arrays.
 */
type Mask = Map<string, Mask | true>;

export function parseFieldMask(text: string): Mask {
  let at = 0;
  const parseList = (): Mask => {
    const mask: Mask = new Map();
    for (;;) {
      const start = at;
      while (at < text.length && !',()'.includes(text[at] ?? '')) at++;
      const path = text.slice(start, at).trim();
      let sub: Mask | true = true;
      if (text[at] === '(') {
        at++;
        sub = parseList();
        if (text[at] === ')') at++;
      }
      if (path !== '') insert(mask, path.split(/[./]/), sub);
      if (text[at] === ',') {
        at++;
        continue;
      }
      return mask;
    }
  };
  return parseList();
}

function insert(mask: Mask, path: string[], leaf: Mask | true): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const existing = mask.get(head);
  if (rest.length === 0) {
    if (leaf === true || existing === true) mask.set(head, true);
    else if (existing) for (const [key, value] of leaf) insertMask(existing, key, value);
    else mask.set(head, leaf);
    return;
  }
  if (existing === true) return;
  const child = existing ?? new Map();
  mask.set(head, child);
  insert(child, rest, leaf);
}

function insertMask(mask: Mask, key: string, value: Mask | true): void {
  insert(mask, [key], value);
}

export function applyFieldMask(value: unknown, fields: string): unknown {
  return project(value, parseFieldMask(fields));
}

function project(value: unknown, mask: Mask | true): unknown {
  if (mask === true || mask.has('*')) return value;
  if (Array.isArray(value)) return value.map((item) => project(item, mask));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of mask) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) out[key] = project(member, sub);
  }
  return out;
}

/** Whether a mask asks for anything under `path` (e.g. `sheets.data`), to decide what to build. */
export function maskIncludes(fields: string, path: string[]): boolean {
  let mask: Mask | true = parseFieldMask(fields);
  for (const key of path) {
    if (mask === true || mask.has('*')) return true;
    const next: Mask | true | undefined = mask.get(key);
    if (next === undefined) return false;
    mask = next;
  }
  return true;
}
