/**
 * Values cross from the worker's realm into the script's `vm` context. Objects made in one
 * realm fail `instanceof Array` / `instanceof Date` in another, and Apps Script code does use
 * those checks, so arrays, plain objects and dates are rebuilt with the context's constructors.
 */
import vm from 'node:vm';

export interface ScriptRealm {
  context: vm.Context;
  /** Deep-copies a JSON-like value (plus Dates) into the script's realm. */
  toScript(value: unknown): unknown;
}

export function createScriptRealm(globals: Record<string, unknown>): ScriptRealm {
  const context = vm.createContext({});
  const ContextArray = vm.runInContext('Array', context) as ArrayConstructor;
  const ContextObject = vm.runInContext('Object', context) as ObjectConstructor;
  const ContextDate = vm.runInContext('Date', context) as DateConstructor;
  const toScript = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (isDate(value)) return new ContextDate(value.getTime());
    if (Array.isArray(value)) {
      const copy = new ContextArray(value.length);
      for (let i = 0; i < value.length; i++) copy[i] = toScript(value[i]);
      return copy;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    const copy = new ContextObject() as Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) copy[key] = toScript(item);
    return copy;
  };
  for (const [name, value] of Object.entries(globals)) context[name] = value;
  return { context, toScript };
}

/** `instanceof Date` across realms. */
export function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/**
 * Makes the context's `Date` read the limits model's clock (virtual-clock.ts): `Date.now()` and
 * `new Date()` give `now()`; dates built from arguments are unchanged, and `instanceof Date` still
 * holds for every date of the realm.
 */
export function installModelClock(context: vm.Context, now: () => number): void {
  const install = vm.runInContext(
    `(function (modelNow) {
      const RealDate = Date;
      const now = () => modelNow();
      function ModelDate(...args) {
        if (!new.target) return new RealDate(now()).toString();
        return args.length === 0 ? new RealDate(now()) : new RealDate(...args);
      }
      Object.setPrototypeOf(ModelDate, RealDate);
      ModelDate.prototype = RealDate.prototype;
      ModelDate.now = now;
      globalThis.Date = ModelDate;
    })`,
    context,
  ) as (now: () => number) => void;
  install(now);
}
