/**
 * ScriptApp (https://developers.google.com/apps-script/reference/script/script-app): installable
 * triggers for the bound spreadsheet (onEdit, onChange, onOpen) and time-driven ones, plus the
 * enums scripts compare against. Triggers are saved with the spreadsheet, like properties.
 */
import { type HostCall, ScriptException } from '../host-call.ts';
import type { TriggerShape, TriggerSpec } from '../protocol.ts';

const EVERY_MINUTES = [1, 5, 10, 15, 30];
const EVERY_HOURS = [1, 2, 4, 6, 8, 12];

export function createScriptApp(
  call: HostCall,
  spreadsheetId: string,
  toScript: (value: unknown) => unknown,
) {
  const trigger = (shape: TriggerShape) => ({
    getUniqueId: () => shape.triggerUid,
    getHandlerFunction: () => shape.handlerFunction,
    getEventType: () => shape.eventType,
    getTriggerSource: () => (shape.eventType === 'CLOCK' ? 'CLOCK' : 'SPREADSHEETS'),
    getTriggerSourceId: () => ('sourceId' in shape ? shape.sourceId : null),
  });
  const create = (spec: TriggerSpec) => trigger(call('trigger.create', spreadsheetId, spec));
  const newTrigger = (functionName: string) => {
    const handlerFunction = String(functionName);
    return {
      forSpreadsheet(sheet: string | { getId(): string }) {
        const sourceId = typeof sheet === 'string' ? sheet : sheet.getId();
        let eventType: 'ON_EDIT' | 'ON_CHANGE' | 'ON_OPEN' | null = null;
        const on = (type: 'ON_EDIT' | 'ON_CHANGE' | 'ON_OPEN') => () => {
          eventType = type;
          return builder;
        };
        const builder = {
          onEdit: on('ON_EDIT'),
          onChange: on('ON_CHANGE'),
          onOpen: on('ON_OPEN'),
          create: () => {
            if (!eventType)
              throw new ScriptException('The trigger builder needs an event: onEdit, onChange or onOpen.');
            return create({ handlerFunction, eventType, sourceId });
          },
        };
        return builder;
      },
      timeBased() {
        let everyMs: number | null = null;
        const builder = {
          everyMinutes(n: number) {
            if (!EVERY_MINUTES.includes(Number(n)))
              throw new ScriptException('The value you passed to everyMinutes must be 1, 5, 10, 15 or 30.');
            everyMs = Number(n) * 60_000;
            return builder;
          },
          everyHours(n: number) {
            if (!EVERY_HOURS.includes(Number(n)))
              throw new ScriptException('The value you passed to everyHours must be 1, 2, 4, 6, 8 or 12.');
            everyMs = Number(n) * 3_600_000;
            return builder;
          },
          create: () => {
            if (everyMs === null)
              throw new ScriptException('The time-based trigger needs everyMinutes or everyHours.');
            return create({ handlerFunction, eventType: 'CLOCK', everyMs });
          },
        };
        return builder;
      },
    };
  };
  return {
    AuthMode: { NONE: 'NONE', CUSTOM_FUNCTION: 'CUSTOM_FUNCTION', LIMITED: 'LIMITED', FULL: 'FULL' },
    EventType: {
      CLOCK: 'CLOCK',
      ON_OPEN: 'ON_OPEN',
      ON_EDIT: 'ON_EDIT',
      ON_FORM_SUBMIT: 'ON_FORM_SUBMIT',
      ON_CHANGE: 'ON_CHANGE',
    },
    TriggerSource: {
      SPREADSHEETS: 'SPREADSHEETS',
      CLOCK: 'CLOCK',
      FORMS: 'FORMS',
      DOCUMENTS: 'DOCUMENTS',
      CALENDAR: 'CALENDAR',
    },
    newTrigger,
    getProjectTriggers: () => toScript(call('trigger.list', spreadsheetId).map(trigger)),
    getUserTriggers: () => toScript(call('trigger.list', spreadsheetId).map(trigger)),
    deleteTrigger: (t: { getUniqueId(): string }) => call('trigger.delete', spreadsheetId, t.getUniqueId()),
    getScriptId: () => `script-${spreadsheetId}`,
    getOAuthToken: () => 'emulator-oauth-token',
  };
}
